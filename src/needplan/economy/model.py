"""The immutable, validated economy: goods, techniques, their inputs and outputs, resources and needs.

An :class:`Economy` is built only through :func:`needplan.economy.validate.build_economy` (directly, or by
reading a folder), so every instance has passed validation. Its arrays and sparse matrices are read-only; to
change an economy, build a new one (:meth:`Economy.tables` gives the tables to edit). This module holds no
file I/O and no solver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from needplan.economy.schema import GOOD_KINDS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Choice: TypeAlias = Mapping[str, str] | pd.Series | Sequence[str] | Sequence[int] | IntArray | None
"""One technique per product (:meth:`Economy.resolve_choice`)."""

PRODUCT, LABOUR, RESOURCE = 0, 1, 2
"""Codes of :data:`needplan.economy.schema.GOOD_KINDS` in :attr:`Economy.good_kind`."""


def _freeze(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _freeze_sparse(m: sp.csc_matrix) -> sp.csc_matrix:
    for arr in (m.data, m.indices, m.indptr):
        arr.flags.writeable = False
    return m


@dataclass(frozen=True)
class Technology:
    """The square Leontief system for one choice of technique per product.

    ``products`` indexes goods of kind product (positions into :attr:`Economy.goods`), ``techniques`` the chosen
    technique of each, ``A`` is the net technology matrix (products x products, inputs minus joint outputs per
    unit of main output), ``R`` the primary inputs per unit of main output (primaries x products), ``primaries``
    the goods indexed by the rows of ``R``.
    """

    products: IntArray
    techniques: IntArray
    primaries: IntArray
    A: sp.csr_matrix
    R: sp.csr_matrix
    joint: bool


@dataclass(frozen=True, eq=False)
class Economy:
    """A validated economy. Vectors over goods have length ``n_goods``; over techniques ``n_techniques``.

    Attributes
    ----------
    goods, techniques
        Ids, as immutable :class:`pandas.Index`.
    good_kind
        0 product, 1 labour, 2 resource (see :data:`PRODUCT`, :data:`LABOUR`, :data:`RESOURCE`).
    technique_good, technique_output, technique_capacity, technique_quality
        Main product (position in ``goods``), its amount per unit of activity, the largest activity per period
        (``inf`` = unlimited) and the relative quality of the output.
    use, make
        Sparse goods x techniques: amounts used, and made (main and joint products), per unit of activity.
    available
        Per period, for labour and resources (``inf`` where not listed); 0 for products.
    target, weight, quality_weighted, need_listed
        Needs per good (target 0 and weight 0 where not listed).
    """

    name: str
    description: str
    goods: pd.Index
    good_kind: NDArray[np.int8]
    good_unit: NDArray[np.object_]
    good_name: NDArray[np.object_]
    techniques: pd.Index
    technique_good: IntArray
    technique_output: FloatArray
    technique_capacity: FloatArray
    technique_quality: FloatArray
    use: sp.csc_matrix
    make: sp.csc_matrix
    available: FloatArray
    target: FloatArray
    weight: FloatArray
    quality_weighted: NDArray[np.bool_]
    need_listed: NDArray[np.bool_]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("good_kind", "good_unit", "good_name", "technique_good", "technique_output",
                     "technique_capacity", "technique_quality", "available", "target", "weight",
                     "quality_weighted", "need_listed"):
            _freeze(getattr(self, name))
        _freeze_sparse(self.use)
        _freeze_sparse(self.make)
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))

    # --- sizes and masks -------------------------------------------------------------------------------
    @property
    def n_goods(self) -> int:
        return len(self.goods)

    @property
    def n_techniques(self) -> int:
        return len(self.techniques)

    @property
    def products(self) -> IntArray:
        """Positions of the goods of kind product."""
        return np.flatnonzero(self.good_kind == PRODUCT)

    @property
    def primaries(self) -> IntArray:
        """Positions of labour and resource goods, in the order of ``goods``."""
        return np.flatnonzero(self.good_kind != PRODUCT)

    @property
    def labour(self) -> IntArray:
        return np.flatnonzero(self.good_kind == LABOUR)

    def notes(self) -> list[str]:
        """What is valid but easily not meant: no technique uses anything, no labour kind or resource is limited,
        nothing is needed (fuzzing: a spreadsheet exported an inputs table with its header only, and every product
        was made from nothing, silently)."""
        out = []
        if not (self.use.data > 0).any():
            out.append("no technique has an input (the inputs table lists none above 0): every product is made from "
                       "nothing")
        if self.primaries.size and not np.isfinite(self.available[self.primaries]).any():
            out.append("no labour kind or resource has an availability in the resources table: nothing but capacities "
                       "limits a plan")
        if not (self.target > 0).any():
            out.append("no need has a target (the needs table lists none above 0): a plan has nothing to fulfil")
        return out

    def __repr__(self) -> str:
        def count(n: int, what: str) -> str:
            return f"{n} {what}{'' if n == 1 else 's'}"

        resources = len(self.primaries) - len(self.labour)
        return (f"Economy({self.name!r}: {count(len(self.products), 'product')}, "
                f"{count(len(self.labour), 'labour kind')}, {count(resources, 'resource')}, "
                f"{count(self.n_techniques, 'technique')})")

    # --- technique choice ------------------------------------------------------------------------------
    def default_choice(self) -> IntArray:
        """The first technique listed for each product, in the order of :attr:`products`."""
        prods = self.products
        first = np.full(self.n_goods, -1, dtype=np.int64)
        # Reverse order so that the earliest technique is written last and wins.
        order = np.arange(self.n_techniques - 1, -1, -1)
        first[self.technique_good[order]] = order
        return first[prods]

    def resolve_choice(self, choice: Choice = None) -> IntArray:
        """Technique positions, one per product in the order of :attr:`products`.

        ``choice`` maps product ids to technique ids (a dict or a pandas Series, such as an analysis's
        ``techniques``; products not named keep their first technique), or is a sequence aligned with
        :attr:`products` of technique ids or of whole technique positions. Raises ``ValueError`` naming the product
        or technique when a choice is unknown or makes another product, and saying what ``choice`` may be for any
        other value.
        """
        prods = self.products
        if choice is None:
            return self.default_choice()
        if isinstance(choice, pd.Series):
            choice = choice.to_dict()
        if isinstance(choice, Mapping):
            chosen = self.default_choice().copy()
            pos_of_product = pd.Series(np.arange(len(prods)), index=self.goods[prods])
            for product, technique in choice.items():
                if product not in pos_of_product.index:
                    raise ValueError(f"choice names {product!r}, which is not a product of this economy")
                t = self.techniques.get_indexer([technique])[0]
                if t < 0:
                    raise ValueError(f"choice for {product!r} names unknown technique {technique!r}")
                if self.goods[self.technique_good[t]] != product:
                    raise ValueError(f"technique {technique!r} makes {self.goods[self.technique_good[t]]!r}, "
                                     f"not {product!r}")
                chosen[int(pos_of_product[product])] = t
            return chosen
        if isinstance(choice, str | bytes) or (given := np.asarray(choice)).ndim != 1:
            raise ValueError("choice must map product ids to technique ids, or list one technique (its id or its "
                             "position) per product in the order of the economy's products; got "
                             + (type(choice).__name__ if isinstance(choice, str | bytes) or given.ndim == 0
                                else f"an array of shape {given.shape}"))
        if given.shape != prods.shape:
            raise ValueError(f"choice has {given.size} entries for {prods.size} products")
        if given.dtype.kind in "OUS":  # technique ids
            chosen = self.techniques.get_indexer(given)
            if np.any(chosen < 0):
                i = int(np.flatnonzero(chosen < 0)[0])
                raise ValueError(f"choice for {self.goods[prods[i]]!r} names unknown technique {str(given[i])!r}")
        elif given.dtype.kind in "iu" or (given.dtype.kind == "f" and bool(np.all(given == np.round(given)))):
            chosen = given.astype(np.int64)
        else:  # (a position of 1.99 was read as 1, and True as 1)
            i = int(np.flatnonzero(given != np.round(given))[0]) if given.dtype.kind == "f" else 0
            raise ValueError(f"choice for {self.goods[prods[i]]!r} is {given[i].item()!r}: technique positions must "
                             "be whole numbers")
        if np.any((chosen < 0) | (chosen >= self.n_techniques)):
            raise ValueError("choice has technique positions out of range")
        wrong = np.flatnonzero(self.technique_good[chosen] != prods)
        if wrong.size:
            i = int(wrong[0])
            raise ValueError(f"technique {self.techniques[chosen[i]]!r} does not make {self.goods[prods[i]]!r}")
        return chosen

    def technology(self, choice: Choice = None) -> Technology:
        """The square Leontief system (see :class:`Technology`) for a choice of one technique per product."""
        prods = self.products
        chosen = self.resolve_choice(choice)
        inv_output = 1.0 / self.technique_output[chosen]
        # Scale the columns in place on the one copy the selection makes and convert to rows once: the inputs
        # of 10^6 techniques are 10^7 entries, and a product with a diagonal matrix would copy them twice more.
        use_cols = self.use[:, chosen]
        use_cols.data *= np.repeat(inv_output, np.diff(use_cols.indptr))
        use = use_cols.tocsr()
        del use_cols
        use.eliminate_zeros()  # an amount divided by a large output may underflow to zero
        make = self.make[:, chosen] @ sp.diags(inv_output)
        A_in = use[prods]
        joint_m = sp.csr_matrix(make[prods])
        joint_m.setdiag(0.0)
        joint_m.eliminate_zeros()
        A = sp.csr_matrix(A_in - joint_m) if joint_m.nnz else A_in
        A.sum_duplicates()
        A.eliminate_zeros()
        prim = self.primaries
        R = use[prim]
        return Technology(prods, chosen, prim, A, R, bool(joint_m.nnz))

    # --- tidy tables -----------------------------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """The economy as the tables of the folder format (fresh copies, safe to edit and rebuild from)."""
        kinds = np.asarray(GOOD_KINDS, dtype=object)[self.good_kind]
        goods = pd.DataFrame({"good": self.goods.to_numpy(dtype=object), "kind": kinds,
                              "unit": self.good_unit.copy(), "name": self.good_name.copy()})
        cap = self.technique_capacity.copy()
        techniques = pd.DataFrame({
            "technique": self.techniques.to_numpy(dtype=object),
            "good": self.goods.to_numpy(dtype=object)[self.technique_good],
            "output": self.technique_output.copy(),
            "capacity": np.where(np.isinf(cap), np.nan, cap),
            "quality": self.technique_quality.copy(),
        })
        inputs = self._pairs(self.use)
        make = self.make.tocoo()
        keep = make.row != self.technique_good[make.col]
        outputs = self._pairs(sp.coo_matrix((make.data[keep], (make.row[keep], make.col[keep])),
                                            shape=make.shape).tocsc())
        prim = self.primaries
        listed = prim[np.isfinite(self.available[prim])]
        resources = pd.DataFrame({"good": self.goods.to_numpy(dtype=object)[listed],
                                  "available": self.available[listed].copy()})
        nd = np.flatnonzero(self.need_listed)
        needs = pd.DataFrame({"good": self.goods.to_numpy(dtype=object)[nd], "target": self.target[nd].copy(),
                              "weight": self.weight[nd].copy(),
                              "quality_weighted": self.quality_weighted[nd].copy()})
        return {"goods": goods, "techniques": techniques, "inputs": inputs, "outputs": outputs,
                "resources": resources, "needs": needs}

    def _pairs(self, m: sp.csc_matrix) -> pd.DataFrame:
        """Technique-major (technique, good, amount) rows of a goods x techniques matrix."""
        csc = m.tocsc()
        csc.sort_indices()
        cols = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
        return pd.DataFrame({"technique": self.techniques.to_numpy(dtype=object)[cols],
                             "good": self.goods.to_numpy(dtype=object)[csc.indices],
                             "amount": csc.data.copy()})
