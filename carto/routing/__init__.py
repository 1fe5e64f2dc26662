"""Who is competent where: services, categories, the competence table and its resolution."""
