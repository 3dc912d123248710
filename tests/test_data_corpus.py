"""helpers.data.corpus: the word corpus (deterministic, clean, built from the notes' sentences and the topics'
frames), tokenize and remove_stop_words, the vocabulary (order, counts and round trip checked against a Counter
here, and the errors), and the corpus's purpose: a tiny skip-gram trained on it for a fraction of a second puts
the words of each topic next to each other."""

import re
from collections import Counter

import pytest
import torch

from helpers.data import corpus
from helpers.data.corpus import build_vocabulary, remove_stop_words, royal_corpus, tokenize


def test_royal_corpus_is_deterministic_clean_and_starts_from_the_notes():
    sentences = royal_corpus()
    assert sentences == royal_corpus() and sentences is not royal_corpus()
    assert 200 <= len(sentences) <= 400 and len(set(sentences)) == len(sentences)
    assert all(s and re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", s) for s in sentences)  # lowercase, single spaces
    assert sentences[:5] == ["the future king is the prince", "daughter is the princess", "son is the prince",
                             "only a man can be king", "only a woman can be queen"]
    for words, frames in corpus.TOPICS.values():  # every word of a topic fills every frame of its topic
        assert len(words) == 4 and all(f.format(w) in sentences for f in frames for w in words)
    words = [w for s in sentences for w in s.split()]
    print(f"\nroyal corpus: {len(sentences)} sentences, {len(words)} words, {len(set(words))} distinct")


def test_tokenize_and_remove_stop_words():
    assert tokenize("The King,  the Queen!\n") == ["the", "king", "the", "queen"]
    assert tokenize("...") == []
    notes = ["The future King is the Prince", "Daughter is the princess", "Son is the prince",
             "only a man can be King", "only a woman can be queen", "the a is"]
    assert remove_stop_words(notes) == ["future king prince", "daughter princess", "son prince", "man king",
                                        "woman queen"]  # the notes' step 1; the all-stop-word line is dropped
    assert remove_stop_words(["the cat"], stop_words={"cat"}) == ["the"]
    with pytest.raises(TypeError, match="list of sentences"):
        remove_stop_words("the cat")
    with pytest.raises(TypeError, match="string"):
        tokenize(["the", "cat"])


def test_vocabulary_order_counts_and_round_trip():
    sentences = royal_corpus()
    vocabulary = build_vocabulary(sentences)
    counter = Counter(w for s in sentences for w in s.split())
    assert sorted(vocabulary.words) == sorted(counter) and len(vocabulary) == len(counter)
    ranks = [(-counter[w], w) for w in vocabulary.words]
    assert ranks == sorted(ranks)  # most frequent first, ties alphabetical
    assert vocabulary.words[0] == "the"
    assert vocabulary.counts.dtype == torch.int64
    assert vocabulary.counts.tolist() == [counter[w] for w in vocabulary.words]
    assert all(vocabulary.words[i] == w for w, i in vocabulary.index.items())
    assert build_vocabulary(sentences).words == vocabulary.words  # deterministic
    for s in sentences:
        ids = vocabulary.encode(s)
        assert all(isinstance(i, int) for i in ids) and vocabulary.decode(ids) == s
        assert vocabulary.decode(torch.tensor(ids)) == s and vocabulary.encode(s.split()) == ids
    assert vocabulary.encode("The KING!") == [vocabulary.index["the"], vocabulary.index["king"]]
    print(f"\nvocabulary: {len(vocabulary)} words")


def test_min_count_unknown_words_and_errors():
    vocabulary = build_vocabulary(["the cat", "the dog", "a cat"], min_count=2)
    assert vocabulary.words == ["cat", "the"] and vocabulary.counts.tolist() == [2, 2]
    with pytest.raises(ValueError, match=r"\['dog', 'unicorn'\] not in the vocabulary"):
        vocabulary.encode("the unicorn, the dog")
    assert vocabulary.encode("the unicorn, the cat", skip_unknown=True) == [1, 1, 0]
    with pytest.raises(ValueError, match=r"0\.\.1"):
        vocabulary.decode([0, 2])
    with pytest.raises(ValueError, match="min_count"):
        build_vocabulary(["the cat"], min_count=0)
    with pytest.raises(ValueError, match="lower min_count"):
        build_vocabulary(["the cat"], min_count=3)
    with pytest.raises(TypeError, match="list of sentences"):
        build_vocabulary("the cat")


def test_a_tiny_skipgram_groups_the_topics():
    """What the corpus is for: skip-gram with negative sampling (D = 16, window 2, Adam 1e-2, 400 steps of 256
    pairs, well under a second) puts king's three nearest words among queen, prince, princess, and cat's, bread's
    and paris's among their own topic's words."""
    from helpers.nn.embedding import SkipGram, nearest_neighbours, noise_distribution, sample_negatives, skipgram_pairs

    sentences = royal_corpus()
    vocabulary = build_vocabulary(sentences)
    pairs = torch.cat([skipgram_pairs(vocabulary.encode(s), 2) for s in sentences])
    noise = noise_distribution(vocabulary.counts)
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = SkipGram(len(vocabulary), 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(400):
        batch = pairs[torch.randint(len(pairs), (256,), generator=generator)]
        loss = model(batch[:, 0], batch[:, 1], sample_negatives(noise, (256, 5), generator))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for head, mates in (("king", {"queen", "prince", "princess"}), ("cat", {"dog", "rabbit", "horse"}),
                        ("bread", {"cheese", "soup", "cake"}), ("paris", {"london", "rome", "berlin"})):
        indices, _ = nearest_neighbours(model.vectors, vocabulary.index[head], 3)
        assert {vocabulary.words[i] for i in indices.tolist()} == mates, head
