"""The fixture's queries and their expected top answer (INSEE code, BAN type): the
built-in geocoder must give these, and addok (external provider) the same top answer."""

FIXTURE_QUERIES = [
    ("12 rue Nationale, Lille", "59350", "housenumber"),
    ("12 bis rue nationale lille", "59350", "housenumber"),
    ("Roubaix", "59512", "municipality"),
    ("roubiax", "59512", "municipality"),  # typo
    ("Lyon 3e", "69383", "municipality"),
    ("lyon 3ème", "69383", "municipality"),
    ("69003", "69383", "municipality"),
    ("59100", "59512", "municipality"),
    ("Boulogne Billancourt", "92012", "municipality"),
    ("issy les moulineaux", "92040", "municipality"),
    ("bd de la liberte lille", "59350", "street"),
    ("st sauveur lille", "59350", "street"),
    ("av jean lebas", "59512", "street"),
    ("rue sainte catherine lyon", "69381", "street"),
    ("cours emile zola", "69266", "street"),
    ("7 av Edouard Vaillant 92100", "92012", "housenumber"),
]
