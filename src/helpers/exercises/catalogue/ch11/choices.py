"""Chapter 11: two choices. The decision in the lecture notes' bulb example (which alternative, which comparison, what
to conclude), asked after example 1 is worked and before example 2 is; and which error a screening test must avoid,
and which way that moves the threshold."""

from __future__ import annotations

from helpers.exercises.compare import choice
from helpers.exercises.spec import Case, Exercise

# ---------------------------------------------------------------- the bulb example (exercise 11.2)
BULB_QUESTION = (
    "A company claims that its bulbs last 28 months on average. The lifetimes of 10 bulbs have sum 282 and sum of "
    "squares 8378: mean 28.2, s = 6.877, t = (28.2 - 28) / (6.877 / sqrt(10)) = 0.092 with 9 degrees of freedom "
    "(t_{0.95, 9} = 1.833, t_{0.975, 9} = 2.262). Which test and conclusion are right at the 5% level?"
)

BULB_OPTIONS = {
    "a": "H1: mu > 28, since the sample mean 28.2 is above 28; t = 0.092 < 1.833, so fail to reject H0.",
    "b": "H1: mu != 28, set before the data; t = 0.092 < 2.262 (p = 0.93), so accept H0: the mean is 28.",
    "c": "H1: mu != 28, set before the data; t = 0.092 < 2.262 (p = 0.93), so fail to reject H0 at 5%.",
    "d": "One-tailed at 5%: compare |t| = 0.092 with 1.833 whatever the sign of t, so fail to reject H0.",
}

BULB_DECISION = Exercise(
    id="11.bulb_decision",
    title="The decision in the bulb example",
    kind="choice",
    points=1,
    prompt=f"{BULB_QUESTION} Return the letter.",
    reference=lambda: "c",
    cases=lambda: [Case("10 bulbs, mean 28.2, s = 6.877, t = 0.092, the claim mu = 28, alpha = 0.05", (),
                        "Three things to judge in each option: where the alternative comes from, what t is compared "
                        "with, and what the conclusion claims.")],
    compare=choice(BULB_OPTIONS),
    options=BULB_OPTIONS,
    hints=[
        "The alternative is part of the question, set before anyone looks at the data. Does the question say in "
        "which direction the claim might be wrong?",
        "A choice made after seeing the data changes the test's error rate: if you always test in the direction the "
        "sample points to, how often do you reject a true H0 at a nominal 5%?",
        "What can a test conclude when t falls short of the critical value: that H0 is true, or that the data do not "
        "contradict it? And with a one-sided alternative, does the sign of t matter?",
    ],
    wrong={
        "The tail was chosen after looking at the data (28.2 > 28): the alternative comes from the question, before "
        "the data. Always testing in the direction the sample points to rejects a true H0 twice as often as alpha "
        "says, about 10% at a nominal 5%.": lambda: "a",
        "A test never shows that H0 is true: t below the critical value says the data are compatible with a mean of "
        "28 months, not that the mean is 28 (with 10 bulbs and s = 6.9, a mean of 30 would be compatible too). Say "
        "'fail to reject H0'.": lambda: "b",
        "Comparing |t| with a one-sided critical value ignores the direction the alternative names: with H1: mu > "
        "28, t = -3 is no evidence for H1 at all, yet |t| = 3 > 1.833 would reject. A one-sided test compares t, "
        "with its sign, with its critical value.": lambda: "d",
    },
)


# ---------------------------------------------------------------- which error matters (exercise 11.7)
SCREENING_QUESTION = (
    "A classifier scores blood samples for a serious disease that is treatable when caught early. Everyone it "
    "flags gets a cheap, accurate confirmatory test; no one else is tested again. The disease is rare (about 1 in "
    "200). You choose the threshold above which a sample is flagged. Which error matters more here, and which way "
    "do you move the threshold from the one that maximises accuracy?"
)

SCREENING_OPTIONS = {
    "a": "False positives: each one costs a needless follow-up test, so raise the threshold to gain precision.",
    "b": "False negatives: a missed case goes untreated, so raise the threshold so that fewer are flagged.",
    "c": "Neither: the accuracy-maximising threshold already weighs both errors, so keep it where it is.",
    "d": "False negatives: a missed case goes untreated, so lower the threshold to flag more and gain recall.",
}

WHICH_ERROR = Exercise(
    id="11.which_error",
    title="Which error matters more?",
    kind="choice",
    points=1,
    prompt=f"{SCREENING_QUESTION} Return the letter.",
    reference=lambda: "d",
    cases=lambda: [Case("screening for a rare, serious, treatable disease, with a cheap confirmatory test", (),
                        "Weigh what each error costs in this setting, then ask which way of moving the threshold "
                        "makes the costlier one rarer.")],
    compare=choice(SCREENING_OPTIONS),
    options=SCREENING_OPTIONS,
    hints=[
        "List what happens after each error: a healthy person flagged (false positive), and a sick person not flagged "
        "(false negative). Which one can the next step still correct?",
        "Moving the threshold trades one error for the other: a lower threshold flags more samples (more true and "
        "more false positives, fewer false negatives); a higher one flags fewer.",
        "Which of precision and recall counts the missed cases? And is accuracy a good guide when 199 of 200 samples "
        "are negative?",
    ],
    wrong={
        "A false positive here costs one cheap confirmatory test, which then clears the person; a false negative is "
        "never tested again and leaves a serious, treatable disease untreated. Precision is not what this screening "
        "must protect.": lambda: "a",
        "Raising the threshold flags fewer samples, so more of the sick ones fall below it: it ADDS false negatives. "
        "Fewer flagged means fewer found.": lambda: "b",
        "Accuracy counts both errors as equally bad, and with 1 case in 200 the classifier that flags no one is "
        "already 99.5% accurate: the accuracy-maximising threshold can miss most cases.": lambda: "c",
    },
)

EXERCISES = [BULB_DECISION, WHICH_ERROR]
