"""The data, model and evaluation blocks of the standalone script for a sequence network (Sequences page).

The task's generator is the project's own function, shipped as source; the character text is shipped as
a string. The network is the app's SeqNet written out: the same cell and head built in the same order
under the same seed, the forget-gate bias added by the project's own function, and validation in the
app's chunks, so the script reaches the app's losses.
"""

from __future__ import annotations

from core.data import sequences
from core.data.corpus import load_text
from core.data.sequences import sequence_count, task_shape
from core.export.seq_templates import (
    CELL_CODE,
    FORGET_CODE,
    FORGET_DOC,
    MAKE_CODE,
    NUMBERS,
    ONE_HOT,
    READ_CODE,
    SEQ_ACCURACY,
    SEQ_DATA,
    SEQ_EVALUATE,
    SEQ_LOSS,
    SEQ_MODEL,
)
from core.export.source import sources
from core.models import rnn as rnn_models
from core.seq import EVAL_CHUNK
from core.spec import Spec

GENERATORS = {  # task -> the project's functions make_data() calls
    "adding": (sequences.adding_problem, sequences.split_sequences),
    "sines": (sequences.noisy_sines, sequences.split_sequences),
    "copy": (sequences.copy_task, sequences.split_sequences),
    "text": (sequences.encode, sequences.text_windows),
}


def seq_data_code(spec: Spec) -> str:
    """`make_data()`: the spec's sequences from the project's generator, split as the app splits them."""
    task, seen = spec.data.name, set()
    parts = [src for fn in GENERATORS[task] for src in sources(fn, sequences, seen)]
    if task == "text":
        parts.insert(0, f"TEXT = {load_text()!r}  # the project's text, shipped whole")
    n = sequence_count(spec)
    return SEQ_DATA.format(task=task, sources="\n\n".join(parts), n=n, make=MAKE_CODE[task].format(n=n))


def seq_model_code(spec: Spec) -> str:
    """`SeqNet`, `build_model()` and `init_weights()`: the app's recurrent network written out."""
    q, shape = spec.seq, task_shape(spec)
    cell = CELL_CODE[q.cell].format(i=shape["input_size"], h=q.hidden, n=q.layers, d=q.dropout if q.layers > 1 else 0.0)
    symbols = shape["classes"] is not None
    encode = ONE_HOT.format(symbols=shape["input_size"]) if symbols else NUMBERS.format(inputs=shape["input_size"])
    forget = bool(q.forget_bias) and q.cell == "lstm"
    return SEQ_MODEL.format(
        sources="\n\n".join(sources(rnn_models.add_forget_bias, rnn_models)) + "\n\n" if forget else "",
        rnn=cell,
        hidden=q.hidden,
        n_out=shape["output_size"],
        encode=encode,
        read=READ_CODE[shape["readout"]].format(tail=q.recall),
        forget_doc=FORGET_DOC if forget else "",
        forget_code=FORGET_CODE if forget else "",
    )


def seq_loss_code(spec: Spec) -> str:
    """The loss call SeqTrainer.loss_fn makes: cross-entropy over every symbol, or MSE for numbers."""
    return SEQ_LOSS[task_shape(spec)["classes"] is not None]


def seq_evaluate_code(spec: Spec) -> str:
    """`evaluate()`: validation loss and (symbols) the share of symbols right, in the app's chunks."""
    return SEQ_EVALUATE.format(chunk=EVAL_CHUNK, accuracy=SEQ_ACCURACY[task_shape(spec)["classes"] is not None])
