"""Chapter 7 exercises: recurrent networks (one step of an RNN, backpropagation through time for a scalar RNN, a
leaky unit, one step of a GRU and of an LSTM with torch's conventions, the parameters of an nn.LSTM, why the forget
gate's bias starts high).

One module per group of exercises; ``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch07 import bptt, cells, gated, lstm

EXERCISES = [cells.RNN_STEP, *bptt.EXERCISES, cells.LEAKY, *gated.EXERCISES, *lstm.EXERCISES]
