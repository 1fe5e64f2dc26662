"""Demo texts for the seeded concertations: French sentences per theme, varied enough that
the synthesis finds the themes in the words themselves. Fictional, marked as demo data.
"""

from __future__ import annotations

import random

PLU_THEMES = [
    ("mobilites", "Mobilités et déplacements", "#1f77b4", "bus"),
    ("nature", "Nature en ville et biodiversité", "#2ca02c", "tree"),
    ("logement", "Logement et habitat", "#ff7f0e", "home"),
    ("patrimoine", "Patrimoine et paysage", "#9467bd", "landmark"),
    ("commerces", "Commerces et activités", "#d62728", "store"),
    ("equipements", "Équipements et services publics", "#8c564b", "school"),
]

TREE_THEMES = [
    ("ombre", "Îlots de fraîcheur", "#1b9e77", "sun"),
    ("ecoles", "Abords des écoles", "#d95f02", "school"),
    ("rues", "Rues et places", "#7570b3", "road"),
    ("parcs", "Parcs et jardins", "#66a61e", "tree"),
]

PLU_TITLES = {
    "mobilites": [
        "Piste cyclable sécurisée vers {place}", "Traversée piétonne dangereuse à {place}",
        "Plus de bus le soir à {place}", "Stationnement vélo près de la gare de {place}",
        "Zone 30 autour du centre de {place}", "Relier {place} au métro par une navette",
    ],
    "nature": [
        "Créer un parc de quartier à {place}", "Protéger la haie bocagère de {place}",
        "Désimperméabiliser la cour d'école de {place}", "Corridor écologique le long du canal",
        "Jardins partagés à {place}", "Préserver les arbres anciens de {place}",
    ],
    "logement": [
        "Logements abordables pour les jeunes à {place}", "Réhabiliter les logements vacants",
        "Limiter la hauteur des immeubles à {place}", "Logement social mieux réparti",
        "Rénovation énergétique des copropriétés de {place}", "Habitat inclusif pour les aînés",
    ],
    "patrimoine": [
        "Protéger les maisons de courées de {place}", "Sauvegarder la friche industrielle",
        "Mettre en valeur l'église de {place}", "Préserver la vue sur le beffroi",
        "Inventaire du patrimoine ouvrier de {place}", "Reconvertir l'ancienne filature",
    ],
    "commerces": [
        "Redynamiser les commerces du centre de {place}", "Un marché couvert à {place}",
        "Éviter une nouvelle zone commerciale", "Locaux pour artisans à {place}",
        "Cellules commerciales vides rue principale", "Tiers-lieu pour entreprises à {place}",
    ],
    "equipements": [
        "Une piscine pour {place}", "Agrandir la médiathèque de {place}",
        "Maison de santé à {place}", "Nouvelle école pour le quartier de {place}",
        "Salle de sport ouverte le soir à {place}", "Crèche près de la gare de {place}",
    ],
}  # fmt: skip

PLU_SENTENCES = {
    "mobilites": [
        "Les cyclistes partagent la chaussée avec les voitures et les camions, c'est dangereux.",
        "Une piste cyclable continue et séparée encouragerait le vélo pour aller au travail.",
        "Le bus ne passe plus après vingt heures, on dépend de la voiture.",
        "Les trottoirs sont encombrés par le stationnement, les poussettes passent sur la route.",
        "Il manque un passage piéton éclairé devant l'arrêt de bus.",
        "La circulation de transit traverse le quartier à grande vitesse aux heures de pointe.",
        "Des arceaux vélo sécurisés à la gare permettraient de combiner train et vélo.",
        "Le métro est saturé, une ligne de bus express soulagerait la liaison.",
    ],
    "nature": [
        "Ce terrain en friche pourrait devenir un parc avec des arbres et une prairie fleurie.",
        "Les haies et les mares abritent des oiseaux, des hérissons et des amphibiens.",
        "En été la cour bitumée est une fournaise, il faut planter et végétaliser.",
        "Un corridor vert relierait les espaces naturels et protégerait la biodiversité.",
        "Les habitants veulent des jardins partagés pour cultiver légumes et fleurs.",
        "Ces grands arbres donnent de l'ombre et de la fraîcheur, ne les abattez pas.",
        "Il faut classer ce bois en espace boisé protégé dans le plan local d'urbanisme.",
        "Moins de béton, plus de pleine terre pour infiltrer l'eau de pluie.",
    ],
    "logement": [
        "Les loyers sont trop élevés pour les jeunes ménages et les étudiants.",
        "Beaucoup de logements sont vacants et dégradés, il faut les réhabiliter.",
        "Les immeubles de huit étages ne correspondent pas au caractère pavillonnaire.",
        "Le logement social doit être réparti dans toutes les communes de la métropole.",
        "La rénovation thermique des copropriétés réduirait les factures de chauffage.",
        "Les personnes âgées cherchent des logements adaptés près des services.",
        "La densification doit préserver l'ensoleillement des maisons voisines.",
        "Il faudrait des logements familiaux avec trois chambres à prix abordable.",
    ],
    "patrimoine": [
        "Les courées et maisons ouvrières en brique racontent l'histoire textile.",
        "Cette ancienne usine en brique mérite une protection au titre du patrimoine.",
        "La perspective sur le beffroi et le clocher doit rester dégagée.",
        "Les façades anciennes sont remplacées par des constructions sans caractère.",
        "Le paysage des champs et des fermes au carré disparaît sous les lotissements.",
        "La filature pourrait accueillir des ateliers d'artistes et un musée.",
        "Il faut un inventaire précis du patrimoine bâti remarquable de la commune.",
    ],
    "commerces": [
        "Les commerces de proximité ferment un à un et les vitrines restent vides.",
        "Un marché couvert animerait la place du centre le week-end.",
        "Une nouvelle zone commerciale en périphérie tuerait le commerce du centre-ville.",
        "Les artisans cherchent des locaux abordables avec un accès pour les livraisons.",
        "Il faudrait réserver les rez-de-chaussée aux boutiques et aux services.",
        "Un tiers-lieu accueillerait le télétravail, les associations et les jeunes entreprises.",
        "Les terrasses des cafés et restaurants font vivre la rue commerçante.",
    ],
    "equipements": [
        "La piscine est fermée depuis des années, les enfants n'apprennent plus à nager.",
        "La médiathèque est trop petite pour les ateliers et le travail des étudiants.",
        "Il manque des médecins généralistes, une maison de santé est indispensable.",
        "L'école est saturée, les classes sont installées dans des préfabriqués.",
        "Les associations sportives manquent de créneaux dans le gymnase.",
        "Les parents attendent des places en crèche près des transports.",
        "Une salle des fêtes rénovée servirait aux associations du quartier.",
    ],
}  # fmt: skip

TREE_TITLES = {
    "ombre": ["Un arbre pour ombrager {place}", "Rafraîchir l'arrêt de bus de {place}",
              "De l'ombre sur la place de {place}", "Planter contre la chaleur à {place}"],
    "ecoles": ["Des arbres devant l'école de {place}", "Ombrager la sortie du collège de {place}",
               "Végétaliser le parvis de l'école de {place}"],
    "rues": ["Alignement d'arbres rue de {place}", "Un arbre sur le trottoir large de {place}",
             "Planter sur la place minérale de {place}", "Un tilleul au carrefour de {place}"],
    "parcs": ["Compléter le verger du parc de {place}", "Un chêne dans le square de {place}",
              "Planter une haie fruitière à {place}"],
}  # fmt: skip

TREE_SENTENCES = [
    "En été le bitume rayonne et l'ombre manque pour les piétons.",
    "Le trottoir est assez large et aucun réseau ne semble passer dessous.",
    "Un tilleul ou un micocoulier supporterait bien la chaleur.",
    "Les enfants attendent au soleil à la sortie de l'école.",
    "Un arbre ici rafraîchirait la terrasse et le banc voisins.",
    "La place est entièrement minérale, un peu de verdure serait bienvenue.",
    "Les oiseaux trouveraient refuge dans un arbre fruitier.",
    "Une fosse de plantation plus grande laisserait l'eau de pluie s'infiltrer.",
]

GENERIC = [
    "Merci de prendre cet avis en compte dans le futur plan.",
    "J'habite le quartier depuis longtemps et je constate la même chose chaque jour.",
    "C'est une demande partagée par de nombreux voisins.",
    "",
    "",
]

ANSWER_TEXTS = {
    "retenue": "La proposition est intégrée au projet : elle figure dans les orientations "
    "d'aménagement du secteur, avec un calendrier présenté en réunion publique.",
    "a_l_etude": "Les services étudient la faisabilité technique et le coût ; une réponse "
    "détaillée sera publiée lors de la phase de restitution.",
    "non_retenue": "La proposition n'est pas retenue : elle contredit d'autres objectifs du "
    "projet (maintien des surfaces agricoles et des réseaux existants).",
    "hors_sujet": "Cette contribution ne concerne pas l'objet de la concertation ; elle a été "
    "transmise au service compétent.",
    "hors_competence": "Ce sujet relève d'une autre collectivité ; nous lui avons transmis "
    "la demande.",
}

PSEUDONYMS = [
    "Léa R.", "Hugo M.", "Chloé B.", "Lucas D.", "Manon P.", "Nathan L.", "Inès G.", "Jules F.",
    "Sarah K.", "Tom V.", "Camille T.", "Yanis A.", "Emma C.", "Louis H.", "Zoé N.", "Adam S.",
    "Alice J.", "Noah E.", "Lina O.", "Gabriel W.", "Rose Q.", "Sacha Y.", "Jade U.", "Ethan Z.",
    "Louise I.", "Maël X.", "Anna D.", "Paul B.", "Mila R.", "Rayan M.",
]  # fmt: skip


def plu_text(rng: random.Random, theme: str, place: str) -> tuple[str, str]:
    """A title and a body of two or three sentences for the PLU demo."""
    title = rng.choice(PLU_TITLES[theme]).format(place=place)
    body = " ".join(rng.sample(PLU_SENTENCES[theme], k=rng.choice((2, 2, 3))))
    extra = rng.choice(GENERIC)
    return title, f"{body} {extra}".strip()


def tree_text(rng: random.Random, theme: str, place: str) -> tuple[str, str]:
    title = rng.choice(TREE_TITLES[theme]).format(place=place)
    return title, " ".join(rng.sample(TREE_SENTENCES, k=2))
