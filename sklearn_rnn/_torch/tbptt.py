"""Truncated backpropagation through time: the training step over chunks of ``k`` steps.

A batch of zero-padded sequences is cut along time into chunks of
``tbptt_steps`` steps. Each chunk starts from the state the previous one
ended with, detached (so the graph, and the memory it holds, never spans
more than one chunk), and the weights are updated after every chunk that
has a loss:

* many-to-one networks: a sequence's loss lives in the chunk where it ends
  (the head reads its last real step there); a chunk in which no sequence
  ends only carries the state forward, without a gradient;
* per-step networks: every chunk has the losses of its own real steps.

Sequences that have ended leave the batch, so later chunks never compute on
padding. With ``tbptt_steps >= T`` there is one chunk and the update is
exactly that of full backpropagation through time.
"""

import torch
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_tensor


def _select_rows(state, rows):
    """Each layer's state restricted to ``rows`` (a boolean mask or indices)."""
    if state is None:
        return None
    return [
        tuple(leaf[rows] for leaf in layer) if isinstance(layer, tuple) else layer[rows]
        for layer in state
    ]


def _detach(state):
    return [
        tuple(leaf.detach() for leaf in layer) if isinstance(layer, tuple) else layer.detach()
        for layer in state
    ]


def truncated_bptt_step(net, batch, steps, per_step):
    """Train ``net`` on one batch, chunk by chunk; returns skorch's step dict.

    The loss reported for the batch is the mean of the chunks' losses,
    weighted by the number of targets in each.
    """
    Xi, yi = unpack_data(batch)
    x = to_tensor(Xi["x"], device=net.device)  # (B, T, F)
    lengths = to_tensor(Xi["lengths"], device=net.device)  # (B,)
    y = to_tensor(yi, device=net.device)  # (B,) / (B, n_outputs), or (B, T, ...) per step
    rows = torch.arange(x.shape[0], device=x.device)  # the sequences not yet ended
    state = None
    total, count = 0.0, 0
    net._set_training(True)
    for start in range(0, x.shape[1], steps):
        remaining = lengths[rows] > start
        if not bool(remaining.all()):
            rows, state = rows[remaining], _select_rows(state, remaining)
        chunk_lengths = (lengths[rows] - start).clamp(max=steps)  # (B_c,), each >= 1
        chunk = x[rows, start : start + int(chunk_lengths.max())]  # (B_c, T_c, F)
        if per_step:
            target, scored = y[rows, start : start + chunk.shape[1]], None
            n_targets = int(chunk_lengths.sum())
        else:
            scored = lengths[rows] <= start + steps  # the sequences ending in this chunk
            target, n_targets = y[rows][scored], int(scored.sum())
        if n_targets == 0:  # nothing to learn here: carry the state forward
            with torch.no_grad():
                _, state = net.module_.forward_chunk(chunk, chunk_lengths, state)
            continue
        result = {}

        def step_fn():
            net._zero_grad_optimizer()
            y_pred, new_state = net.module_.forward_chunk(chunk, chunk_lengths, state)
            loss = net.get_loss(y_pred if per_step else y_pred[scored], target, training=True)
            loss.backward()
            net.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(net.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
            result.update(loss=loss, state=new_state)
            return loss

        net._step_optimizer(step_fn)
        state = _detach(result["state"])
        total += float(result["loss"].detach()) * n_targets
        count += n_targets
    return {"loss": torch.tensor(total / count), "y_pred": None}
