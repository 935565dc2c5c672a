"""Tensor lifetimes under an execution order, and the search for an order with a lower peak.

The storage model (:func:`storage_model`) is built once per graph and size rule:

* every activation value maps to a **storage**: its own, or, for a view op (the registry's
  ``Entry.view``: Reshape, Squeeze, Unsqueeze, Flatten, Identity) and for a torch in-place op
  (``Node.attrs["inplace"]``), the storage of input 0, so a chain of aliases shares one buffer
  and keeps it alive until the last alias is read;
* weights (and aliases of weights) are not activations and take no storage;
* a storage is allocated by the node that produces its root value and freed after the last node
  that reads any of its aliases; a storage that holds a graph output lives to the end of the
  run; a produced value nobody reads lives only while its producer runs;
* graph inputs are allocated by the caller before the run. With ``inputs_held`` (the default)
  the caller keeps them for the whole run, as it does with ONNX Runtime, PyTorch or a TFLite
  interpreter (the runtime cannot free the caller's array); without it they are freed after
  their last reader, as an arena planner that owns the input buffer can (TFLite Micro); an
  input nobody reads is then never live during a node;
* a node with subgraphs (If/Loop/Scan) adds the activation peak of its largest subgraph
  (same rules, default order, computed recursively) on top of the live set while it runs.

While node ``v`` runs, the memory in use is everything live before it, plus its new outputs,
plus its subgraph peak: ``during(v)``. After it, storages whose last reader was ``v`` are freed:
``after(v)``. The activation peak of an order is the largest ``during``.

:func:`search_order` looks for a topological order with a lower peak: a dynamic programme over
the sets of executed nodes (the live set after a set of nodes depends on the set only, not on
the order inside it), exact while each step holds at most ``max_states_per_step`` sets and a
beam search (the ``beam_width`` best sets by peak, then live bytes) beyond that.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from typing import Literal

from edgeprof.errors import GraphError
from edgeprof.ir import Graph, Node, Value, topological_indices
from edgeprof.ops.registry import lookup

SizeFn = Callable[[Value], "int | None"]


def stored_size(value: Value) -> int | None:
    """Bytes of a dense tensor as typed; ``None`` when it cannot be sized (no shape, a
    symbolic dim, a string or unknown element type)."""
    if value.shape is None or not value.shape.is_static or value.dtype.bits == 0:
        return None
    return value.dtype.nbytes_for(value.shape.numel())


@dataclass(frozen=True, slots=True)
class Storage:
    """One buffer: the value that owns it, its bytes (0 when unsized, see ``sized``), the node
    index that allocates it (-1 for a graph input), the node indices that read any alias of it
    (ascending, each once), whether an alias is a graph output, and the aliases themselves (root
    first)."""

    root: str
    size_bytes: int
    sized: bool
    producer: int
    readers: tuple[int, ...]
    pinned: bool
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class StorageModel:
    """A graph's storages and, per node (by index into ``graph.nodes``), the storages it
    allocates and reads, its subgraph peak and the nodes that must run before it (``preds``:
    the data flow, plus the in-place rule: the readers of a buffer that an in-place op
    overwrites run before it)."""

    graph: Graph
    storages: tuple[Storage, ...]
    storage_of: Mapping[str, int]
    allocs: tuple[tuple[int, ...], ...]
    reads: tuple[tuple[int, ...], ...]
    subgraph_peak_bytes: tuple[int, ...]
    preds: tuple[tuple[int, ...], ...]  # ascending, each once
    inputs_held: bool = True

    @cached_property
    def held_input_bytes(self) -> int:
        """Bytes of the graph inputs live for the whole run (held by the caller, or outputs)."""
        return sum(s.size_bytes for s in self.storages if s.producer < 0 and s.pinned)

    @property
    def unsized(self) -> tuple[str, ...]:
        return tuple(s.root for s in self.storages if not s.sized)

    def working_set_bytes(self, i: int) -> int:
        """Bytes node ``i`` needs whatever the order: the storages it reads and writes plus its
        subgraph peak (a lower bound on the peak of any order)."""
        ids = set(self.reads[i]) | set(self.allocs[i])
        return sum(self.storages[s].size_bytes for s in ids) + self.subgraph_peak_bytes[i]

    # The model is frozen (and its graph with it): what follows is worked out once and shared by
    # the memory report and the order search.
    @cached_property
    def storage_bytes(self) -> tuple[int, ...]:
        """The bytes of each storage, by id."""
        return tuple(s.size_bytes for s in self.storages)

    @cached_property
    def awaited(self) -> frozenset[int]:
        """The nodes some node must run after."""
        return frozenset(p for ps in self.preds for p in ps)

    @cached_property
    def default_lifetimes(self) -> Lifetimes:
        """The lifetimes under :func:`default_order`."""
        return lifetimes(self, default_order(self))

    @cached_property
    def default_memory(self) -> OrderMemory:
        """The memory of :func:`default_order`."""
        return memory_of(self, self.default_lifetimes)


@dataclass(frozen=True)
class Sizes:
    """The bytes of a model's storages (by storage id) and of its nodes' subgraph peaks (by node
    index) under one size rule: the same graph at another precision keeps its lifetimes."""

    storage_bytes: tuple[int, ...]
    subgraph_peak_bytes: tuple[int, ...]


@dataclass(frozen=True)
class Lifetimes:
    """When each storage (by id) is live under one order: from step ``first_step`` (-1: held
    before the first node) to step ``last_step`` inclusive (the number of steps: to the end;
    below ``first_step``: during no node at all). The same for every size rule."""

    order: tuple[int, ...]
    first_step: tuple[int, ...]
    last_step: tuple[int, ...]


@dataclass(frozen=True)
class OrderMemory:
    """The memory of one order: per step, the bytes in use while the node runs (``during``)
    and after it (``after``); ``start_bytes`` is what the caller holds before the first node."""

    order: tuple[int, ...]
    during: tuple[int, ...]
    after: tuple[int, ...]
    start_bytes: int
    peak_bytes: int
    peak_step: int  # -1 when the graph has no nodes


def storage_model(graph: Graph, size_of: SizeFn = stored_size, *, inputs_held: bool = True,
                  peaks: dict[Graph, int] | None = None) -> StorageModel:
    """Build the storages of ``graph`` (see the module docstring) with sizes from ``size_of``;
    ``inputs_held``: the caller keeps the graph inputs alive for the whole run; ``peaks``: the
    peaks of subgraphs already evaluated with the same ``size_of`` (a subgraph run by several
    nodes, such as a TFLite branch shared by IF operators, is evaluated once)."""
    peaks = {} if peaks is None else peaks
    nodes = graph.nodes
    storage_of: dict[str, int] = {}  # activation value -> its storage (the root's)
    roots: list[str] = []  # by storage id, in the order the roots appear
    producers: list[int] = []
    for name in graph.inputs:
        if name not in graph.weights and name not in storage_of:
            storage_of[name] = len(roots)
            roots.append(name)
            producers.append(-1)
    allocs: list[tuple[int, ...]] = [()] * len(nodes)
    view_ops: dict[str, bool] = {}
    producer: dict[str, int] = {}  # every value a node writes -> that node
    for i in topological_indices(graph, graph.outer_read_names):
        node = nodes[i]
        alias_src = _alias_source(node, view_ops)
        mine: list[int] = []
        for k, out in enumerate(node.outputs):
            if not out:
                continue
            producer[out] = i
            if k == 0 and alias_src is not None:
                if alias_src in storage_of:
                    storage_of[out] = storage_of[alias_src]
                # else: an alias of a weight or of an outer value: no storage of this graph
                continue
            storage_of[out] = len(roots)
            mine.append(len(roots))
            roots.append(out)
            producers.append(i)
        if mine:
            allocs[i] = tuple(mine)
    readers: list[list[int]] = [[] for _ in roots]
    aliases: list[list[str]] = [[] for _ in roots]
    for value, sid in storage_of.items():
        if value != roots[sid]:
            aliases[sid].append(value)
    reads: list[tuple[int, ...]] = []
    for i, node in enumerate(nodes):
        mine_read = tuple([storage_of[n] for n in node.reads if n in storage_of])
        if len(mine_read) > 1:  # two aliases of one buffer read by one node: the buffer once
            mine_read = tuple(dict.fromkeys(mine_read))
        for sid in mine_read:
            readers[sid].append(i)
        reads.append(mine_read)
    held = [o for o in graph.outputs if o in storage_of]
    if inputs_held:
        held += [i for i in graph.inputs if i in storage_of]
    pinned = {storage_of[o] for o in held}
    values = graph.values
    storages: list[Storage] = []
    for sid, root in enumerate(roots):
        root_value = values.get(root)
        size = size_of(root_value) if root_value is not None else None
        storages.append(
            Storage(root, size or 0, size is not None, producers[sid], tuple(readers[sid]), sid in pinned,
                    (root, *sorted(aliases[sid])) if aliases[sid] else (root,))
        )
    sub_peaks = tuple(_subgraph_peak(node, size_of, inputs_held, peaks) if node.subgraphs else 0 for node in nodes)
    preds = _dependencies(graph, producer, storage_of, readers)
    return StorageModel(graph, tuple(storages), storage_of, tuple(allocs), tuple(reads), sub_peaks, preds,
                        inputs_held)


def sizes_under(model: StorageModel, size_of: SizeFn) -> Sizes:
    """Every buffer (and subgraph peak) of ``model`` sized by ``size_of``: the lifetimes, aliases
    and dependencies stay (another precision of the same graph). An unsized buffer takes 0 bytes."""
    values = model.graph.values
    storage_bytes = tuple(
        (size_of(value) or 0) if (value := values.get(s.root)) is not None else 0 for s in model.storages
    )
    peaks: dict[Graph, int] = {}
    sub_peaks = tuple(
        _subgraph_peak(node, size_of, model.inputs_held, peaks) if node.subgraphs else 0 for node in model.graph.nodes
    )
    return Sizes(storage_bytes, sub_peaks)


def _alias_source(node: Node, view_ops: dict[str, bool]) -> str | None:
    """The input whose storage output 0 shares: a view op's or an in-place op's input 0
    (``view_ops``: whether each op seen so far is a view)."""
    if not node.inputs or not node.inputs[0] or not node.outputs or not node.outputs[0]:
        return None
    view = view_ops.get(node.op)
    if view is None:
        entry = lookup(node.op)
        view = view_ops[node.op] = entry is not None and entry.view
    if view or bool(node.attrs.get("inplace")):
        return node.inputs[0]
    return None


def _subgraph_peak(node: Node, size_of: SizeFn, inputs_held: bool, peaks: dict[Graph, int]) -> int:
    peak = 0
    for sub in node.subgraphs.values():
        known = peaks.get(sub)
        if known is None:
            model = storage_model(sub, size_of, inputs_held=inputs_held, peaks=peaks)
            known = peaks[sub] = evaluate(model, default_order(model)).peak_bytes
        peak = max(peak, known)
    return peak


def _dependencies(
    graph: Graph, producer: dict[str, int], storage_of: dict[str, int], readers: list[list[int]]
) -> tuple[tuple[int, ...], ...]:
    """Data dependencies (``producer``: the node writing each value) plus the in-place rule: every
    reader of an overwritten buffer that does not itself depend on the in-place node runs before it."""
    preds: list[set[int]] = [{producer[n] for n in node.reads if n in producer} for node in graph.nodes]
    inplace = [
        i for i, node in enumerate(graph.nodes)
        if node.attrs.get("inplace") and node.inputs and node.inputs[0] in storage_of
    ]
    if not inplace:
        return tuple(tuple(sorted(p)) for p in preds)
    succ: list[list[int]] = [[] for _ in graph.nodes]
    for i, ps in enumerate(preds):
        for p in ps:
            succ[p].append(i)
    tpos = _topological_positions(preds, succ)
    for i in inplace:
        sid = storage_of[graph.nodes[i].inputs[0]]
        others = [r for r in readers[sid] if r != i]
        after = _reached(i, [r for r in others if tpos[r] > tpos[i]], succ, tpos)
        for r in others:
            if r not in after:
                preds[i].add(r)
    return tuple(tuple(sorted(p)) for p in preds)


def _topological_positions(preds: list[set[int]], succ: list[list[int]]) -> list[int]:
    pending = [len(p) for p in preds]
    ready = [i for i, k in enumerate(pending) if not k]
    pos = [0] * len(preds)
    k = 0
    while ready:
        i = ready.pop()
        pos[i] = k
        k += 1
        for u in succ[i]:
            pending[u] -= 1
            if not pending[u]:
                ready.append(u)
    return pos


def _reached(start: int, targets: list[int], succ: list[list[int]], tpos: list[int]) -> set[int]:
    """Which ``targets`` depend on ``start``: a search from it that never goes past the last
    target in topological position (a node beyond it cannot lead back to one)."""
    if not targets:
        return set()
    limit = max(tpos[t] for t in targets)
    wanted = set(targets)
    found: set[int] = set()
    seen: set[int] = set()
    stack = [u for u in succ[start] if tpos[u] <= limit]
    while stack and found != wanted:
        k = stack.pop()
        if k in seen:
            continue
        seen.add(k)
        if k in wanted:
            found.add(k)
        stack.extend(u for u in succ[k] if tpos[u] <= limit and u not in seen)
    return found


def default_order(model: StorageModel) -> tuple[int, ...]:
    """:func:`edgeprof.ir.topological_order` as node indices (the order a runtime would use when
    it keeps the source order), adjusted for the in-place constraints if the source breaks them."""
    graph = model.graph
    order = topological_indices(graph, graph.outer_read_names)
    return order if is_valid_order(model, order) else _kahn(model, order)


def _kahn(model: StorageModel, priority: Sequence[int]) -> tuple[int, ...]:
    """A topological order of ``model.preds``, ties broken by position in ``priority``."""
    rank = {node: k for k, node in enumerate(priority)}
    n = len(model.preds)
    pending = [len(p) for p in model.preds]
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(model.preds):
        for p in ps:
            succ[p].append(i)
    ready = [(rank[i], i) for i in range(n) if not pending[i]]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for u in succ[i]:
            pending[u] -= 1
            if not pending[u]:
                heapq.heappush(ready, (rank[u], u))
    if len(order) != n:
        stuck = [model.graph.nodes[i].name for i in range(n) if pending[i]][:3]
        raise GraphError(
            f"in-place ops cannot be ordered: node(s) {', '.join(repr(x) for x in stuck)} overwrite a buffer "
            "that a later node still reads"
        )
    return tuple(order)


def is_valid_order(model: StorageModel, order: Sequence[int]) -> bool:
    """True when ``order`` runs every node once, each after all its dependencies."""
    n = len(model.preds)
    if len(order) != n:
        return False
    step_of = [-1] * n
    for k, i in enumerate(order):
        if not 0 <= i < n or step_of[i] >= 0:
            return False
        step_of[i] = k
    return all(step_of[p] < step_of[i] for i, ps in enumerate(model.preds) for p in ps)


def lifetimes(model: StorageModel, order: Sequence[int]) -> Lifetimes:
    """The steps of ``order`` (indices into ``graph.nodes``) during which each storage is live."""
    n = len(order)
    step_of = {node: k for k, node in enumerate(order)}
    if len(step_of) != len(model.preds):
        raise ValueError("the order must hold every node exactly once")
    first: list[int] = []
    last: list[int] = []
    for s in model.storages:
        start = step_of[s.producer] if s.producer >= 0 else -1
        first.append(start)
        if s.pinned:
            last.append(n)
        elif s.readers:
            last.append(max(step_of[r] for r in s.readers) if len(s.readers) > 1 else step_of[s.readers[0]])
        else:
            last.append(start if start >= 0 else -1)  # read by nobody: live while its producer runs
    return Lifetimes(tuple(order), tuple(first), tuple(last))


def evaluate(model: StorageModel, order: Sequence[int]) -> OrderMemory:
    """The memory of running the nodes in ``order`` (indices into ``graph.nodes``)."""
    return memory_of(model, lifetimes(model, order))


def memory_of(model: StorageModel, life: Lifetimes, sizes: Sizes | None = None) -> OrderMemory:
    """The memory of the order of ``life`` with the model's own sizes or ``sizes``."""
    storage_bytes = sizes.storage_bytes if sizes is not None else model.storage_bytes
    sub_peaks = sizes.subgraph_peak_bytes if sizes is not None else model.subgraph_peak_bytes
    order = life.order
    n = len(order)
    alloc_at = [0] * (n + 1)
    free_after = [0] * (n + 1)
    start_bytes = 0
    live_before = 0  # the inputs, less those no node reads (never live during a node)
    for first, last, size in zip(life.first_step, life.last_step, storage_bytes, strict=True):
        if first < 0:
            start_bytes += size
            if last >= 0:
                live_before += size
                free_after[last] += size
        elif last >= first:
            alloc_at[first] += size
            free_after[last] += size
    if not n:
        return OrderMemory(tuple(order), (), (), start_bytes, start_bytes, -1)
    # live[k]: bytes live before step k (after step k - 1); during step k: live[k] + what k allocates
    # + its subgraph peak; after it: live[k + 1]
    live = list(accumulate(map(operator.sub, alloc_at[:n], free_after[:n]), initial=live_before))
    during = list(map(operator.add, live[:n], alloc_at[:n]))
    if any(sub_peaks):
        during = list(map(operator.add, during, (sub_peaks[node] for node in order)))
    peak = max(during)
    return OrderMemory(tuple(order), tuple(during), tuple(live[1:]), start_bytes, peak, during.index(peak))


# ---- the search -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """The best order found, its peak, how it was found and how many sets were explored."""

    order: tuple[int, ...]
    peak_bytes: int
    method: Literal["exact", "heuristic"]
    states_explored: int
    lower_bound_bytes: int


_Path = tuple[tuple[int, ...], "_Path"] | None


def search_order(
    model: StorageModel,
    *,
    max_states_per_step: int | None = None,
    beam_width: int | None = None,
    max_nodes: int = 20_000,
    depth_first: bool = True,
) -> SearchResult:
    """A topological order of ``model.graph`` whose activation peak is as low as found.

    First the cheap candidates: the default order and (``depth_first``) two depth-first orders
    from the outputs. Then a dynamic programme over executed-node sets, pruned by the best
    candidate's peak: exact while no step holds more than ``max_states_per_step`` sets (default
    1,000, fewer on graphs of more than 400 nodes); a step that holds more is cut to its
    ``beam_width`` best sets by (peak, live bytes) (default 64, fewer on graphs of more than
    1,500 nodes) and the result is marked ``heuristic``. Never worse than the default order (ties
    keep it). ``max_nodes``: larger graphs get the candidates only.

    Two kinds of nodes are placed rather than searched (see :func:`deferrable` and
    :func:`isolated`), which keeps side chains such as shape computations from multiplying
    the sets to explore."""
    base_mem = model.default_memory
    base = base_mem.order
    n = len(base)
    lower = max([base_mem.start_bytes if n == 0 else 0] + [step_lower_bound(model, i) for i in range(n)])
    if n == 0 or base_mem.peak_bytes <= lower:
        return SearchResult(base, base_mem.peak_bytes, "exact", 0, lower)
    # candidates that cost one pass each: the default order and depth-first orders from the outputs
    best, best_peak = base, base_mem.peak_bytes
    tried = {base}
    for candidate in _depth_first_orders(model, base) if depth_first else []:
        if candidate in tried:  # (a chain's depth-first order is its default order)
            continue
        tried.add(candidate)
        peak = evaluate(model, candidate).peak_bytes
        if peak < best_peak:
            best, best_peak = candidate, peak
    if best_peak <= lower:
        return SearchResult(best, best_peak, "exact", 0, lower)
    if n > max_nodes:
        return SearchResult(best, best_peak, "heuristic", 0, lower)
    width = beam_width if beam_width is not None else max(8, min(64, 100_000 // n))
    max_states = max_states_per_step if max_states_per_step is not None else max(width, min(1000, 400_000 // n))
    rank = {node: k for k, node in enumerate(base)}
    apart = frozenset(i for i in range(n) if isolated(model, i))
    explored = 0
    # first with the isolated nodes placed after the search; if their placement cannot be shown
    # optimal, once more with every node searched
    for separate in (apart, frozenset()) if apart else (apart,):
        found, states, exact = _dynamic_programme(model, best_peak, rank, separate, max_states, width)
        explored += states
        if found is None:  # nothing below the best order known: that order is optimal (if exact)
            return SearchResult(best, best_peak, "exact" if exact else "heuristic", explored, lower)
        rest_peak, rest = found
        order, placed_steps = _insert_isolated(model, rest, separate, rank)
        # the isolated nodes change no other step: removing them cannot raise any order's peak, so
        # the rest's optimum bounds the whole from below; a placed node above it is still optimal
        # when its step holds no more than it must in any order
        proven = all(b <= rest_peak or b == step_lower_bound(model, v) for v, b in placed_steps.items())
        peak = evaluate(model, order).peak_bytes
        if peak < best_peak:
            best, best_peak = order, peak
        if proven or not exact:
            return SearchResult(best, best_peak, "exact" if exact and proven else "heuristic", explored, lower)
    return SearchResult(best, best_peak, "heuristic", explored, lower)


def _depth_first_orders(model: StorageModel, base: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Orders that compute each value just before it is needed: a depth-first post-order from
    the graph outputs (then the nodes no output depends on, in the default order), visiting a
    node's dependencies earliest-first and latest-first. Lazy evaluation of this kind keeps a
    side branch (the value projection of an attention block) from being computed long before
    its use."""
    rank = {node: k for k, node in enumerate(base)}
    producer = {out: i for i, node in enumerate(model.graph.nodes) for out in node.outputs if out}
    roots = list(dict.fromkeys(producer[o] for o in model.graph.outputs if o in producer))
    orders = []
    for reverse in (False, True):
        done: set[int] = set()
        order: list[int] = []
        for root in [*roots, *base]:
            if root in done:
                continue
            stack: list[tuple[int, bool]] = [(root, False)]
            while stack:
                node, expanded = stack.pop()
                if node in done:
                    continue
                if expanded:
                    done.add(node)
                    order.append(node)
                    continue
                stack.append((node, True))
                deps = sorted((p for p in model.preds[node] if p not in done), key=rank.__getitem__, reverse=not reverse)
                stack.extend((p, False) for p in deps)  # popped in the opposite order
        orders.append(tuple(order))
    return orders


def step_lower_bound(model: StorageModel, i: int) -> int:
    """Bytes in use while node ``i`` runs in any order: what it reads and writes, its subgraph
    peak, and the graph inputs that stay live throughout."""
    touched = set(model.reads[i])
    touched.update(model.allocs[i])
    working = model.subgraph_peak_bytes[i]  # the working set: what it touches and its subgraph peak
    held_touched = 0
    for k in touched:
        s = model.storages[k]
        working += s.size_bytes
        if s.producer < 0 and s.pinned:
            held_touched += s.size_bytes
    return working + model.held_input_bytes - held_touched


def isolated(model: StorageModel, i: int) -> bool:
    """Node ``i`` reads only buffers that live to the end (or none), nobody reads what it
    writes, and no node has to wait for it: its step is the only one it changes, so it is
    placed, after the search, where the fewest bytes are live (a dead ``ConstantOfShape``, an
    unused second output)."""
    node = model.graph.nodes[i]
    if model.subgraph_peak_bytes[i] or node.attrs.get("inplace") or not model.allocs[i]:
        return False
    storages = model.storages
    if any(storages[s].readers or storages[s].pinned for s in model.allocs[i]):
        return False
    if i in model.awaited:
        return False
    return all(storages[s].pinned for s in model.reads[i])


def _insert_isolated(
    model: StorageModel, rest: tuple[int, ...], apart: frozenset[int], rank: dict[int, int]
) -> tuple[tuple[int, ...], dict[int, int]]:
    """Put each isolated node after its dependencies, where the live bytes are lowest (the
    earliest such place); returns the order and each placed node's step bytes."""
    pos = {node: k for k, node in enumerate(rest)}
    n = len(rest)
    diff = [0] * (n + 1)  # live bytes after step k = prefix sum of diff[0..k]
    before_first = 0
    for s in model.storages:
        if s.producer >= 0 and s.producer not in pos:
            continue  # written by an isolated node: dead at once, changes no other step
        readers = [pos[r] for r in s.readers if r in pos]
        begin = pos[s.producer] if s.producer >= 0 else -1
        end = n if s.pinned else (max(readers) if readers else begin)
        if begin < 0 and end >= 0:
            before_first += s.size_bytes
        if max(begin, 0) < end:
            diff[max(begin, 0)] += s.size_bytes
            diff[end] -= s.size_bytes
    after: list[int] = []
    live = 0
    for k in range(n):
        live += diff[k]
        after.append(live)
    slots: dict[int, list[int]] = {}
    steps: dict[int, int] = {}
    for v in sorted(apart, key=rank.__getitem__):
        earliest = max((pos[p] for p in model.preds[v]), default=-1)
        best_k = earliest
        best_live = before_first if earliest < 0 else after[earliest]
        for k in range(earliest + 1, n):
            if after[k] < best_live:
                best_k, best_live = k, after[k]
        slots.setdefault(best_k, []).append(v)
        steps[v] = best_live + sum(model.storages[s].size_bytes for s in model.allocs[v])
    order = list(slots.get(-1, []))
    for k, node in enumerate(rest):
        order.append(node)
        order.extend(slots.get(k, []))
    return tuple(order), steps


def deferrable(model: StorageModel, i: int) -> bool:
    """Node ``i`` frees nothing whatever the order (every buffer it reads lives to the end, or
    it reads none), runs no subgraph, and each of its outputs is read later or is a graph
    output. Running such a node just before the first node that reads it (or at the end when
    only graph outputs come of it) never raises the peak: its outputs then exist for the
    shortest time, and its own step holds no more than the next step. The search therefore
    places these nodes itself instead of branching on them (a Shape or a ConstantOfShape would
    otherwise multiply the sets to explore). A node with an output nobody reads is searched:
    its best place is where the fewest bytes are live, not the end."""
    node = model.graph.nodes[i]
    if model.subgraph_peak_bytes[i] or node.attrs.get("inplace"):
        return False
    storages = model.storages
    if any(not storages[s].readers and not storages[s].pinned for s in model.allocs[i]):
        return False
    return all(storages[s].pinned for s in model.reads[i])


def _dynamic_programme(
    model: StorageModel, bound: int, rank: dict[int, int], apart: frozenset[int], max_states: int, width: int
) -> tuple[tuple[int, tuple[int, ...]] | None, int, bool]:
    """The best order of the nodes not ``apart`` (deferrable ones placed along), its peak, the
    sets explored and whether no step was cut to the beam. Sets whose peak reaches ``bound`` (the
    best order known) are dropped: they cannot lead to a better one."""
    n = len(model.preds)
    storages = model.storages
    reader_mask = [sum(1 << r for r in s.readers) for s in storages]
    alloc_bytes = [sum(storages[s].size_bytes for s in model.allocs[i]) for i in range(n)]
    # what node i frees for sure (its own outputs nobody reads) and what it may free (its reads)
    dead_own = [
        sum(storages[s].size_bytes for s in model.allocs[i] if not storages[s].readers and not storages[s].pinned)
        for i in range(n)
    ]
    may_free = [
        tuple((reader_mask[s], storages[s].size_bytes) for s in model.reads[i] if not storages[s].pinned)
        for i in range(n)
    ]
    sub = model.subgraph_peak_bytes
    # a node that an isolated node waits for is searched: deferring it would pin the isolated node
    # to where it lands
    waited_for = {p for v in apart for p in model.preds[v]}
    deferred = [i not in apart and i not in waited_for and deferrable(model, i) for i in range(n)]
    # each searched node drags along the deferred nodes it needs (through deferred nodes only)
    closure: list[tuple[int, ...]] = []
    eff_pred = [0] * n
    for u in range(n):
        found: set[int] = set()
        stack = [p for p in model.preds[u] if deferred[p]]
        while stack:
            v = stack.pop()
            if v not in found:
                found.add(v)
                stack.extend(p for p in model.preds[v] if deferred[p])
        closure.append(tuple(sorted(found, key=rank.__getitem__)))
        for v in (u, *found):
            for p in model.preds[v]:
                if not deferred[p]:
                    eff_pred[u] |= 1 << p
    searched = [u for u in range(n) if not deferred[u] and u not in apart]
    eff_succ: list[list[int]] = [[] for _ in range(n)]
    for u in searched:
        m = eff_pred[u]
        while m:
            low = m & -m
            m ^= low
            eff_succ[low.bit_length() - 1].append(u)

    def step(seq: tuple[int, ...], mask: int, peak: int, live: int) -> tuple[int, int, int]:
        for v in seq:
            during = live + alloc_bytes[v] + sub[v]
            if during > peak:
                peak = during
            mask |= 1 << v
            freed = dead_own[v]
            for readers, size in may_free[v]:
                if readers & mask == readers:  # every reader has run
                    freed += size
            live += alloc_bytes[v] - freed
        return mask, peak, live

    start_live = sum(s.size_bytes for s in storages if s.producer < 0 and (s.readers or s.pinned))
    start_ready = sum(1 << u for u in searched if not eff_pred[u])
    # state: executed-set mask -> (peak so far, live bytes after the set, ready mask, path)
    layer: dict[int, tuple[int, int, int, _Path]] = {0: (0, start_live, start_ready, None)}
    explored = 0
    exact = True
    for _ in searched:
        nxt: dict[int, tuple[int, int, int, _Path]] = {}
        for mask, (peak, live, ready, path) in layer.items():
            todo = ready
            while todo:
                low = todo & -todo
                todo ^= low
                u = low.bit_length() - 1
                drag = closure[u]
                seq = (*(v for v in drag if not mask >> v & 1), u) if drag else (u,)
                new_mask, new_peak, new_live = step(seq, mask, peak, live)
                if new_peak >= bound:
                    continue
                old = nxt.get(new_mask)
                if old is not None and old[0] <= new_peak:
                    continue
                new_ready = ready ^ low
                for w in eff_succ[u]:
                    needs = eff_pred[w]
                    if needs & new_mask == needs:
                        new_ready |= 1 << w
                nxt[new_mask] = (new_peak, new_live, new_ready, (seq, path))
        explored += len(nxt)
        if not nxt:
            return None, explored, exact
        if len(nxt) > max_states:
            exact = False
            keep = sorted(nxt.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))[:width]
            nxt = dict(keep)
        layer = nxt
    ((mask, (peak, live, _, path)),) = layer.items()
    tail = tuple(sorted((v for v in range(n) if not mask >> v & 1 and v not in apart), key=rank.__getitem__))
    _, peak, _ = step(tail, mask, peak, live)
    chunks: list[tuple[int, ...]] = [tail]
    while path is not None:
        chunks.append(path[0])
        path = path[1]
    order = tuple(v for chunk in reversed(chunks) for v in chunk)
    return (peak, order), explored, exact
