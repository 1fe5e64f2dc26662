"""Themes found in the contributions' own words: TF-IDF on French text, then NMF (no I/O).

Deterministic (fixed seed, NNDSVDA start), fast on thousands of texts, and
explainable: each group comes with its top terms and the contributions that
weigh most in it, so a planner can check what the machine grouped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from stop_words import get_stop_words

MIN_DOCUMENTS = 10
# Frequent in consultations and meaningless as a theme.
EXTRA_STOP_WORDS = {
    "faudrait", "faut", "serait", "seraient", "pourrait", "pourraient", "faire", "fait", "plus",
    "moins", "très", "trop", "bien", "aussi", "cette", "cet", "ces", "être", "avoir", "peut",
    "comme", "tout", "tous", "toute", "toutes", "chez", "depuis", "encore", "déjà", "merci",
    "propose", "proposition", "souhaite", "idée", "besoin", "question", "constat", "beaucoup",
    "vraiment", "entre", "sans", "sous", "vers", "quand", "dont", "leurs", "leur", "notre",
    "nos", "votre", "vos", "ici", "cela", "ceci", "ça", "afin", "parce", "car", "donc",
    "autre", "autres", "même", "mêmes", "chaque", "ainsi", "alors", "pourquoi", "comment",
}  # fmt: skip
WORD_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"  # words of 3+ letters, accents included


def french_stop_words() -> list[str]:
    return sorted(set(get_stop_words("french")) | EXTRA_STOP_WORDS)


@dataclass
class TextTheme:
    """A group of contributions that use the same words."""

    group: int
    label: str
    size: int
    top_terms: list[str]
    representatives: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "label": self.label,
            "size": self.size,
            "top_terms": self.top_terms,
            "representatives": self.representatives,
        }


def group_count(documents: int) -> int:
    """About one group per 50 texts, between 2 and 8."""
    return max(2, min(8, documents // 50))


def find_text_themes(
    documents: list[tuple[int, str, str]], *, groups: int | None = None, top_terms: int = 8,
    representatives: int = 3,
) -> list[TextTheme]:  # fmt: skip
    """Groups of (id, title, body) texts by vocabulary, largest first; [] when too few."""
    if len(documents) < MIN_DOCUMENTS:
        return []
    texts = [f"{title}. {title}. {body}" for _, title, body in documents]  # titles weigh double
    vectorizer = TfidfVectorizer(
        stop_words=french_stop_words(), token_pattern=WORD_PATTERN, ngram_range=(1, 2),
        min_df=2, max_df=0.5, sublinear_tf=True,
    )  # fmt: skip
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # every term pruned: nothing shared between texts
        return []
    k = min(groups or group_count(len(documents)), matrix.shape[1], len(documents) - 1)
    if k < 2:
        return []
    model = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=500)
    weights = model.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    assigned = np.where(weights.sum(axis=1) > 0, weights.argmax(axis=1), -1)
    themes = []
    for g in range(k):
        members = np.flatnonzero(assigned == g)
        if members.size == 0:
            continue
        best = members[np.argsort(-weights[members, g], kind="stable")][:representatives]
        top = [str(terms[i]) for i in np.argsort(-model.components_[g], kind="stable")[:top_terms]]
        themes.append(
            TextTheme(
                group=0,
                label=" · ".join(top[:3]),
                size=int(members.size),
                top_terms=top,
                representatives=[{"id": documents[i][0], "title": documents[i][1]} for i in best],
            )  # fmt: skip
        )
    themes.sort(key=lambda t: (-t.size, t.label))
    for number, theme in enumerate(themes, start=1):
        theme.group = number
    return themes
