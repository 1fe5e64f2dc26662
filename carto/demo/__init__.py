"""Demo deployment data (MEL, Métropole de Lyon, GPSO) and its idempotent loader."""
