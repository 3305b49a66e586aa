"""A lesson to take home: the exported script's blocks as a Jupyter notebook, with a Plotly chart of the losses.

The cells are the script's own text (core.export.script_blocks): the spec, the data, the model, the
training loop, so the notebook trains to the same losses as the script and the app. Where the script
runs `main()`, the notebook calls `train(epochs)`, which records every epoch, and charts the records.
It needs what the script needs (torch, numpy; scikit-learn for the digits) plus plotly and Jupyter.
"""

from __future__ import annotations

from core.charts.base import PALETTE
from core.export import script_blocks, script_supported
from core.registry import LOSSES
from core.spec import Spec, SpecError, resolved_loss, validate

INTRO = """# {title}

This notebook trains the network of a Deep Learning Playground lesson in plain PyTorch, exactly as the
app does: the same data, the same modules built in the same order under the same seed, the same batches,
so it reaches the app's losses. Run every cell from the top.

It needs `pip install torch numpy plotly scikit-learn` (and Jupyter)."""

RUN_CELL = """history = train(T["epochs"])  # one record per epoch; change the number of epochs here
print(json.dumps(history[-1]))"""

CHART_CELL = """import plotly.graph_objects as go

done = [r for r in history if "loss" in r]
epochs = [r["epoch"] for r in done]
fig = go.Figure()
fig.add_scatter(x=epochs, y=[r["loss"] for r in done], name="training loss (mean over the epoch)",
                line=dict(color="{train}"))
fig.add_scatter(x=epochs, y=[r["val_loss"] for r in done], name="test loss", line=dict(color="{test}"))
fig.update_layout(template="plotly_white", xaxis_title="epoch", yaxis_title="loss ({loss})", height=420)
fig.show()"""


def notebook_supported(spec: Spec) -> str:
    """'' when a notebook can be written for the spec, else why not (one sentence)."""
    return script_supported(spec).replace("scripts are", "scripts and notebooks are")


def notebook_text(spec: Spec, title: str = "") -> str:
    """The .ipynb (JSON text) that trains `spec` as the app does and charts its losses; SpecError if it cannot."""
    why = notebook_supported(validate(spec))
    if why:
        raise SpecError("notebook", spec.data.name, why)
    import nbformat  # late: nbformat and jsonschema took a third of a page's first drawing, for a button's click
    from nbformat import v4

    b = script_blocks(spec)
    loss = resolved_loss(spec)
    md, code = v4.new_markdown_cell, v4.new_code_cell
    cells = [
        md(INTRO.format(title=title or f"A '{spec.data.name}' network, trained as the playground trains it")),
        code(b["imports"].strip()),
        md("## The spec\nEvery setting of the lesson: `D` the data, `M` the model, `T` the training."),
        code(b["spec"].strip()),
        md("## The data"),
        code(b["data"].strip()),
        md("## The model" + (" and its loss" if b["loss"] else "")),
        code((b["model"] + ("\n\n\n" + b["loss"] if b["loss"] else "")).strip()),
        md("## The training loop\nMini-batch steps in the app's order; the test set is evaluated after each epoch."),
        code(b["training"].strip()),
        code(RUN_CELL),
        md("## The losses"),
        code(CHART_CELL.format(train=PALETTE[0], test=PALETTE[1], loss=LOSSES[loss].label)),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nbformat.writes(nb)
