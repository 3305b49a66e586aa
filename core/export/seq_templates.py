"""The standalone script's text for a sequence network (Sequences page): data, model and evaluation blocks.

They replace the data, model and evaluation blocks of `core.export.templates`; the spec, the training
loop and the run are the same. Each block is a template for `str.format` (literal braces doubled).
"""

# A recurrent cell per registry name, as CELLS builds it (batch first). A test checks every entry has one.
CELL_CODE = {
    "rnn_tanh": 'nn.RNN({i}, {h}, {n}, nonlinearity="tanh", dropout={d}, batch_first=True)',
    "rnn_relu": 'nn.RNN({i}, {h}, {n}, nonlinearity="relu", dropout={d}, batch_first=True)',
    "lstm": "nn.LSTM({i}, {h}, {n}, dropout={d}, batch_first=True)",
    "gru": "nn.GRU({i}, {h}, {n}, dropout={d}, batch_first=True)",
}
READ_CODE = {  # which steps' states the head reads
    "last": "top[:, -1]",  # (B, H): the last step (adding problem)
    "all": "top",  # (B, T, H): every step (forecast, text)
    "tail": "top[:, -{tail}:]",  # (B, recall, H): the replay steps (copy)
}
MAKE_CODE = {  # task -> the body of make_data(), after `gen` is seeded
    "adding": '    return split_sequences(*adding_problem({n}, Q["length"], gen), D["train_frac"])',
    "sines": '    return split_sequences(*noisy_sines({n}, Q["length"], D["noise"], gen), D["train_frac"])',
    "copy": '    return split_sequences(*copy_task({n}, Q["length"], Q["tokens"], Q["recall"], gen), D["train_frac"])',
    "text": """    codes = encode(TEXT, sorted(set(TEXT)))
    cut = int(len(codes) * D["train_frac"])  # training windows come from the start, validation from the rest
    n_train = max(1, int({n} * D["train_frac"]))
    x_train, y_train = text_windows(codes[:cut], n_train, Q["length"], gen)
    x_val, y_val = text_windows(codes[cut:], max(1, {n} - n_train), Q["length"], gen)
    return x_train, y_train, x_val, y_val""",
}

SEQ_DATA = '''# ---- data: the '{task}' sequence task, generated from the seed as the app generates it

Q = SPEC["seq"]  # the sequence settings: cell, hidden units, layers, length, tokens, recall


{sources}

def make_data():
    """(x_train, y_train, x_val, y_val): {n} sequences from a generator seeded with the seed."""
    gen = torch.Generator().manual_seed(SEED)
{make}


make_augmenter = None'''

SEQ_MODEL = '''# ---- model: recurrent layers and a linear head, built in the same order under the same seed

{sources}class SeqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = {rnn}
        self.head = nn.Linear({hidden}, {n_out})

    def forward(self, x):
        {encode}
        top, _ = self.rnn(x)  # (B, T, H): the top layer's state after every step
        return self.head({read})


def build_model():
    return SeqNet()


def init_weights(model):
    """PyTorch's own initialisation{forget_doc}."""
{forget_code}'''

ONE_HOT = "x = F.one_hot(x, {symbols}).float()  # symbols (B, T) -> one-hot (B, T, {symbols})"
NUMBERS = "# numbers (B, T, {inputs}) enter as they are"
FORGET_DOC = ", then the LSTM's forget-gate biases raised by seq.forget_bias"
FORGET_CODE = '    add_forget_bias(model.rnn, Q["forget_bias"])'

SEQ_LOSS = {  # symbols: cross-entropy over every predicted symbol; numbers: mean squared error
    True: "F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))",
    False: "F.mse_loss(out, y)",
}

SEQ_ACCURACY = {
    True: "float((out.argmax(-1) == y).float().mean())  # the share of symbols right",
    False: "None  # numbers: no accuracy",
}
SEQ_EVALUATE = """def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():  # in chunks of {chunk} sequences, as the app evaluates them
        out = torch.cat([model(x[i : i + {chunk}]) for i in range(0, len(x), {chunk})])
        loss = float(loss_fn(out, y))
        accuracy = {accuracy}
    model.train()
    return loss, accuracy"""
