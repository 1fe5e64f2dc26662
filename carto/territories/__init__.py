"""Communes, arrondissements, intercommunalities and the authorities that govern them."""
