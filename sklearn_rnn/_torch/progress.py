"""What ``verbose`` shows while an estimator trains: progress bars or lines.

``verbose=0`` shows nothing. Otherwise the output depends on whether it can
redraw in place (:func:`interactive`: stderr is a terminal, or a Jupyter
kernel runs us):

=========  ==============================================  ==========================
verbose    interactive                                     not interactive (logs, CI)
=========  ==============================================  ==========================
1          a tqdm bar over the epochs on stderr, losses    skorch's table, a line per
           in its postfix                                  epoch on stdout
>= 2       the same bar, a bar over each epoch's batches   the same table
           below it, and the table above them
=========  ==============================================  ==========================

so that logs never fill with carriage-return redraws. Messages (stopping,
restored weights) and table lines go through :meth:`TrainingProgress.write`,
which prints them above the bars (``tqdm.write``) while bars are shown.

skorch's own ``ProgressBar`` is not used: it draws a batch bar only, always
(even into a log file), with plain ``tqdm`` (no notebook widget).
"""

import sys

from skorch.callbacks import Callback


def interactive():
    """Whether a progress bar can redraw in place: in a Jupyter kernel, or stderr is a terminal."""
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = ipython.get_ipython()
        if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
            return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def _bar(**kwargs):
    """A tqdm bar: a widget in a notebook, text elsewhere (also when ipywidgets is missing)."""
    from tqdm import std
    from tqdm.auto import tqdm

    try:
        return tqdm(**kwargs)
    except ImportError:  # tqdm.notebook without ipywidgets
        return std.tqdm(**kwargs)


class TrainingProgress(Callback):
    """Progress bars over epochs (and batches) of training, or nothing.

    Installed by ``make_net`` in every net; ``train`` tells it how many epochs
    the call runs (:meth:`expect`). The bars exist only during training and
    are never pickled with the model.

    Parameters
    ----------
    verbose : int
        The estimator's ``verbose``.
    description : str
        The bar's label, the estimator's class name.
    """

    def __init__(self, verbose, description=""):
        self.verbose = verbose
        self.description = description

    def initialize(self):
        self._epochs = None
        self._bars = None  # (epoch bar, batch bar or None) while bars are shown
        self._tables = False  # whether table lines are printed
        self._start = False  # whether the next epoch opens the bars
        return self

    def expect(self, epochs):
        """Set the number of epochs the next training call runs (``train`` does)."""
        self._epochs = epochs

    def write(self, text):
        """Print ``text`` (a table line, a message) without breaking the bars."""
        if self._bars is not None:
            from tqdm import tqdm

            tqdm.write(text)
        else:
            print(text, flush=True)

    def table(self, text):
        """skorch's ``PrintLog`` sink: table lines, when they are shown."""
        if self._tables:
            self.write(text)

    # --- skorch hooks -----------------------------------------------------------------

    def on_train_begin(self, net, **kwargs):
        self.close()
        bars = self.verbose > 0 and interactive()
        self._tables = self.verbose > 1 or (self.verbose > 0 and not bars)
        self._start = bars  # the bars start at the first epoch, after every on_train_begin

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if self._start:
            self._start = False
            done = len(net.history) - 1  # this epoch's row is already in the history
            epochs = self._epochs if self._epochs is not None else net.max_epochs
            epoch_bar = _bar(
                total=done + epochs, initial=done, desc=self.description, unit="epoch",
                leave=True, dynamic_ncols=True,
            )
            if epoch_bar.disable:  # TQDM_DISABLE=1, say: fall back to lines
                self._tables = True
                return
            self._bars = (epoch_bar, None)
            self._set_postfix(net, offset=2)
        if self._bars is not None and self.verbose > 1:
            total = sum(
                -(-len(data) // net.batch_size)
                for data in (dataset_train, dataset_valid)
                if data is not None
            )
            epoch_bar, batch_bar = self._bars
            if batch_bar is None:
                batch_bar = _bar(
                    total=total, desc="batches", unit="batch", leave=False, position=1,
                    dynamic_ncols=True,
                )
                self._bars = (epoch_bar, batch_bar)
            else:
                batch_bar.reset(total=total)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if self._bars is not None and self._bars[1] is not None:
            batch_bar = self._bars[1]
            key = "train_loss" if training else "valid_loss"
            loss = net.history[-1, "batches", -1].get(key)
            if loss is not None:
                batch_bar.set_postfix({key: f"{loss:.4g}"}, refresh=False)
            batch_bar.update()

    def on_epoch_end(self, net, **kwargs):
        if self._bars is not None:
            self._set_postfix(net)
            self._bars[0].update()

    def on_train_end(self, net, **kwargs):
        self.close()

    def _set_postfix(self, net, offset=1):
        if len(net.history) < offset:
            return
        row = net.history[-offset]
        postfix = {key: f"{row[key]:.4g}" for key in ("train_loss", "valid_loss") if key in row}
        self._bars[0].set_postfix(postfix, refresh=False)

    def close(self):
        """Close the bars; ``train`` calls it also when training fails."""
        bars, self._bars = getattr(self, "_bars", None), None
        for bar in reversed(bars or ()):
            if bar is not None:
                bar.close()

    def __getstate__(self):
        # An interrupted fit leaves its bars open: they are not pickled with the model.
        return {**self.__dict__, "_bars": None, "_start": False}
