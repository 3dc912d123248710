"""A small English corpus written for the book (chapter 8, word embeddings), and a word vocabulary.

The corpus starts from the lecture notes' five sentences about a king, a queen and a prince, and grows them
into a few hundred short sentences on five topics: royalty, people, animals, food and places. Each topic has
four words and ten sentence frames, and every word of a topic fills every frame of its topic:

    "the {} wears a golden crown"  ->  "the king wears ...", "the queen wears ...", "the prince wears ...", ...

So the words of a topic share their contexts exactly and meet the words of other topics only in a few linking
sentences ("the queen has a little dog"). That is the distributional hypothesis built in on purpose: words
that occur in the same contexts mean similar things, and a word2vec model trained for a few seconds on this
corpus puts king near queen and prince, cat near dog, bread near cheese and paris near london.

``royal_corpus()`` returns the sentences, lowercase, without punctuation. ``tokenize`` splits a sentence into
words, ``remove_stop_words`` drops the little words the notes remove first (the, is, a, can, ...), and
``build_vocabulary`` numbers the words, the most frequent first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

# The lecture notes' sentences, lowercased: the corpus starts here.
NOTES = (
    "the future king is the prince",
    "daughter is the princess",
    "son is the prince",
    "only a man can be king",
    "only a woman can be queen",
)

# topic -> (its four words, its ten frames); every word fills every frame of its topic.
TOPICS = {
    "royalty": (
        ("king", "queen", "prince", "princess"),
        ("the {} lives in the castle", "the {} wears a golden crown", "the {} rules the kingdom",
         "the people bow to the {}", "the {} sits on the throne", "the {} rides to the palace",
         "the guards protect the {}", "the {} speaks to the royal court", "a servant brings the {} a letter",
         "the {} waves from the palace balcony"),
    ),
    "people": (
        ("man", "woman", "boy", "girl"),
        ("the {} walks along the road", "the {} reads a book", "the {} opens the door", "the {} waits for the bus",
         "the {} sings a happy song", "a young {} smiles", "the {} writes a note", "the {} laughs with a friend",
         "the {} carries a bag", "the {} sits on a bench"),
    ),
    "animals": (
        ("cat", "dog", "rabbit", "horse"),
        ("the {} runs across the field", "the {} drinks water from a bowl", "the farmer feeds the {}",
         "the {} has soft fur", "the {} plays in the garden", "the vet looks after the {}",
         "the {} is a friendly animal", "the children pet the {}", "the {} chases a ball", "the {} sleeps in the sun"),
    ),
    "food": (
        ("bread", "cheese", "soup", "cake"),
        ("we eat {} for lunch", "the baker sells fresh {}", "she buys {} at the market", "this {} tastes delicious",
         "he cuts the {} with a knife", "the kitchen smells of {}", "put the {} on the plate",
         "they share the {} at dinner", "the cook makes {} every morning", "a hungry traveller asks for {}"),
    ),
    "places": (
        ("paris", "london", "rome", "berlin"),
        ("{} is a big city", "we travel to {} by train", "the museums of {} are famous", "she lives in {}",
         "many tourists visit {}", "the streets of {} are busy", "he flies to {} on monday",
         "a river runs through {}", "the map shows {}", "our hotel in {} is near the station"),
    ),
}

# Sentences that link the topics, and the notes' family relations spelled out.
LINKS = (
    "the king is a man", "the queen is a woman", "the prince is a boy", "the princess is a girl",
    "the prince is the son of the king", "the princess is the daughter of the queen",
    "the son of a king is a prince", "the daughter of a queen is a princess",
    "a boy becomes a man", "a girl becomes a woman", "the king and the queen have a son and a daughter",
    "the queen has a little dog", "the princess has a white horse", "the prince feeds his cat",
    "the king eats bread and cheese", "the queen likes cake with tea", "the princess eats soup",
    "the prince travels to paris", "the queen visits london", "the king flies to rome",
    "the cat and the dog are friends", "the dog sleeps next to the cat", "the horse and the rabbit eat grass",
    "bread and cheese make a good lunch", "the soup comes with bread", "cheese and cake are on the table",
    "paris and london are capitals", "the train goes from london to paris", "rome and berlin are old cities",
    "the woman buys bread", "the man eats cheese", "the boy walks the dog", "the girl holds the rabbit",
    "the boy and the girl visit berlin", "the man and the woman live in london",
)

# The little words the notes remove first: articles, forms of "be", "can", "only", prepositions, pronouns.
STOP_WORDS = frozenset({
    "a", "an", "the", "is", "are", "be", "can", "only", "will", "of", "to", "in", "on", "at", "for", "by", "with",
    "from", "and", "he", "she", "we", "they", "his", "her", "our", "this", "every",
})


def royal_corpus() -> list[str]:
    """The book's word corpus: ``NOTES``, then every topic's frames filled with every one of its words (frame by
    frame, word by word, topics in the order of ``TOPICS``), then ``LINKS``. Lowercase, no punctuation, the same
    list on every call."""
    sentences = list(NOTES)
    for words, frames in TOPICS.values():
        sentences += [frame.format(word) for frame in frames for word in words]
    return sentences + list(LINKS)


def tokenize(sentence: str) -> list[str]:
    """The words of a sentence: lowercased, split on anything that is not a letter or a digit.

    ``tokenize("The King, the Queen!") == ["the", "king", "the", "queen"]``.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"tokenize takes a string (one sentence), got {type(sentence).__name__}.")
    return re.findall(r"[a-z0-9]+", sentence.lower())


def remove_stop_words(sentences: Iterable[str], stop_words: Iterable[str] = STOP_WORDS) -> list[str]:
    """Each sentence without its stop words (tokenized, joined by single spaces); sentences left empty are
    dropped. On the notes: "the future king is the prince" -> "future king prince"."""
    if isinstance(sentences, str):
        raise TypeError("remove_stop_words takes a list of sentences, got one string; wrap it: [sentence].")
    stop = set(stop_words)
    kept = (" ".join(w for w in tokenize(s) if w not in stop) for s in sentences)
    return [s for s in kept if s]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The words of a corpus, numbered: ``words[i]`` is the word with id i, ``index[word]`` its id, ``counts[i]``
    how often it occurs (int64 tensor (V,)). ``encode(sentence) -> list[int]``, ``decode(ids) -> str``;
    ``len(vocabulary)`` is V."""

    words: list[str]
    index: dict[str, int]
    counts: torch.Tensor

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: str | Sequence[str], skip_unknown: bool = False) -> list[int]:
        """The ids of a sentence's words (a string is tokenized first; a list of words is taken as it is).

        A word not in the vocabulary raises ValueError, or is left out with ``skip_unknown=True`` (what you want
        after ``build_vocabulary(..., min_count=2)`` has dropped the rare words).
        """
        words = tokenize(sentence) if isinstance(sentence, str) else list(sentence)
        unknown = [w for w in words if w not in self.index]
        if unknown and not skip_unknown:
            raise ValueError(f"{sorted(set(unknown))!r} not in the vocabulary ({len(self)} words, built from the "
                             "corpus); use only the corpus's words, or encode(..., skip_unknown=True) to drop them.")
        return [self.index[w] for w in words if w in self.index]

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The words with these ids, joined by single spaces: ``decode(encode(s)) == " ".join(tokenize(s))``."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self)]
        if bad:
            raise ValueError(f"ids must be ints in 0..{len(self) - 1} (the vocabulary has {len(self)} words), "
                             f"got {bad[:5]!r}.")
        return " ".join(self.words[i] for i in ids)


def build_vocabulary(sentences: Iterable[str], min_count: int = 1) -> Vocabulary:
    """Number the words of ``sentences`` that occur at least ``min_count`` times.

    Ids follow frequency, the most frequent word first, ties in alphabetical order: the same vocabulary on
    every run, and the frequent words (the stop words, unless removed) get the small ids.
    """
    if isinstance(sentences, str):
        raise TypeError("build_vocabulary takes a list of sentences, got one string; wrap it: [sentence].")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be a positive int, got {min_count!r}.")
    counter = Counter(w for s in sentences for w in tokenize(s))
    kept = sorted((w for w, c in counter.items() if c >= min_count), key=lambda w: (-counter[w], w))
    if not kept:
        raise ValueError(f"no word occurs {min_count} times or more in the {sum(counter.values())} words given; "
                         "lower min_count, or pass a non-empty list of sentences.")
    counts = torch.tensor([counter[w] for w in kept], dtype=torch.int64)
    return Vocabulary(kept, {w: i for i, w in enumerate(kept)}, counts)
