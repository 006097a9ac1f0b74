"""The pymrio bridge on pymrio's own test system (six regions, eight sectors) and on the shipped Spain 2019."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pymrio = pytest.importorskip("pymrio")

from needplan.analysis import analyze  # noqa: E402
from needplan.data.pymrio_bridge import PymrioBridgeError, from_pymrio, to_pymrio  # noqa: E402
from needplan.data.sut import shipped_economy  # noqa: E402


@pytest.fixture(scope="module")
def mrio():
    io = pymrio.load_test()
    io.calc_all()
    return io


def _net_deliveries(io, region: str) -> np.ndarray:
    """What the region's sectors deliver outside its own production: all final demand plus exports to other
    regions' intermediate use (x - A_rr x)."""
    return (io.Y.loc[region].sum(axis=1) + io.Z.loc[region].drop(columns=region, level=0).sum(axis=1)).to_numpy()


def test_region_round_trip_preserves_A_x_and_extensions(mrio) -> None:
    economy = from_pymrio(mrio, "reg2", labour="factor_inputs", resources="emissions")
    assert len(economy.products) == 8 and list(economy.goods[economy.labour]) == ["Value Added"]
    d = pd.Series(_net_deliveries(mrio, "reg2"), index=economy.goods[economy.products])
    back = to_pymrio(economy, final_demand=d)
    np.testing.assert_allclose(back.A.to_numpy(), mrio.A.loc["reg2", "reg2"].to_numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(back.x.to_numpy()[:, 0], mrio.x.loc["reg2"].to_numpy()[:, 0], rtol=1e-12)
    np.testing.assert_allclose(back.Z.sum(axis=1) + back.Y.sum(axis=1), back.x.iloc[:, 0], rtol=1e-12)
    np.testing.assert_allclose(back.resources.F.to_numpy(), mrio.emissions.F.loc[:, "reg2"].to_numpy(), rtol=1e-12)
    # needs: the region's own final demand plus exports (default); availability = the region's emissions
    assert economy.target[economy.products].sum() == pytest.approx(d.clip(lower=0).sum(), rel=1e-12)
    co2 = economy.available[economy.goods.get_loc("emission_type1_air")]
    assert co2 == pytest.approx(float(mrio.emissions.F.loc[("emission_type1", "air"), "reg2"].sum()), rel=1e-12)
    # and back again: the same coefficients
    again = from_pymrio(back, "reg2", labour="labour", resources="resources")
    np.testing.assert_allclose(again.technology().A.toarray(), economy.technology().A.toarray(), atol=1e-15)
    np.testing.assert_allclose(again.technology().R.toarray(), economy.technology().R.toarray(), rtol=1e-12)


def test_single_region_gross_output_matches_pymrio_x(mrio) -> None:
    world = mrio.copy().aggregate(region_agg="world")
    world.calc_all()
    economy = from_pymrio(world, "world")
    x = analyze(economy).gross_output.to_numpy()
    np.testing.assert_allclose(x, world.x.to_numpy()[:, 0], rtol=1e-9)
    # own final demand only (no other region exists): the same needs
    household = from_pymrio(world, "world", categories=["Final consumption expenditure by households"])
    assert household.target.sum() < economy.target.sum()


def test_shipped_spain_to_pymrio_x_is_needplans_gross_output() -> None:
    spain = shipped_economy("spain_2019")
    io = to_pymrio(spain, region="ES")
    check = pymrio.IOSystem(Z=io.Z, Y=io.Y)  # pymrio computes x and A itself from Z and Y
    check.calc_system()
    np.testing.assert_allclose(check.x.to_numpy()[:, 0], analyze(spain).gross_output.to_numpy(), rtol=1e-9)
    assert float(io.labour.F.to_numpy().sum()) == pytest.approx(18_490_200.0, rel=1e-9)


def test_exports_excluded_and_bad_names(mrio) -> None:
    with_exports = from_pymrio(mrio, "reg1")
    domestic = from_pymrio(mrio, "reg1", exports=False)
    own = mrio.Y.loc["reg1", "reg1"].sum(axis=1).clip(lower=0).sum()
    assert domestic.target.sum() == pytest.approx(own, rel=1e-12)
    assert domestic.target.sum() < with_exports.target.sum()
    with pytest.raises(PymrioBridgeError, match="no region 'reg9'"):
        from_pymrio(mrio, "reg9")
    with pytest.raises(PymrioBridgeError, match=r"no extension 'employment'.*factor_inputs, emissions"):
        from_pymrio(mrio, "reg1", labour="employment")
    with pytest.raises(PymrioBridgeError, match="unknown final demand categories"):
        from_pymrio(mrio, "reg1", categories=["Housing"])


def _test_system():
    io = pymrio.load_test()
    io.reset_full()
    return io


def test_a_negative_extension_cell_is_refused_not_dropped() -> None:
    """Found by fuzzing: the cell's coefficient was dropped while the availability summed it, so the region's own
    year reached only 93.8% fulfilment, unseen."""
    io = _test_system()
    io.emissions.F.loc[("emission_type1", "air"), ("reg1", "food")] *= -3
    io.calc_system()
    with pytest.raises(PymrioBridgeError, match="sector 'food' of 'reg1' has a negative amount"):
        from_pymrio(io, "reg1", labour="factor_inputs", resources="emissions")


def test_a_negative_domestic_input_is_refused_naming_it() -> None:
    io = _test_system()
    io.Z.loc[("reg1", "mining"), ("reg1", "food")] = -abs(float(io.Z.loc[("reg1", "mining"), ("reg1", "food")]))
    io.A = io.x = None
    io.calc_system()
    with pytest.raises(PymrioBridgeError, match="the input of 'mining' to 'food' is negative"):
        from_pymrio(io, "reg1")


def test_negative_deliveries_are_needs_of_0_listed_in_the_provenance() -> None:
    """Found by fuzzing: mining's deliveries drawn below 0 left the needs unseen."""
    io = _test_system()
    io.calc_system()
    row, col = ("reg1", "mining"), ("reg1", "Changes in inventories")
    io.Y.loc[row, col] -= 1.5 * float(_net_deliveries(io, "reg1")[list(io.x.loc["reg1"].index).index("mining")])
    io.A = io.x = None
    io.calc_system()
    eco = from_pymrio(io, "reg1")
    assert eco.provenance["needs_clipped"] == ["mining"]
    assert eco.target[eco.goods.get_loc("mining")] == 0.0


def test_an_extension_cell_without_a_figure_is_refused_not_read_as_0() -> None:
    """Found by a helper's fuzzing: a NaN in an extension's F was read as 0, an amount used invented as none."""
    io = _test_system()
    io.emissions.F.loc[("emission_type1", "air"), ("reg1", "food")] = np.nan
    io.calc_system()
    with pytest.raises(PymrioBridgeError, match=r"row .*emission_type1.*: sector 'food' of 'reg1' has no figure"):
        from_pymrio(io, "reg1", labour="factor_inputs", resources="emissions")


def test_a_final_demand_that_is_no_number_is_refused_by_name() -> None:
    """Found by a helper's fuzzing: ``to_pymrio(final_demand={...: nan})`` ended in a bare ValueError of the solve."""
    economy = shipped_economy()
    product = str(economy.goods[economy.products[0]])
    with pytest.raises(PymrioBridgeError, match=f"final demand for '{product}' must be a finite number, got nan"):
        to_pymrio(economy, final_demand={product: np.nan})


@pytest.mark.parametrize(("table", "value"), [("Z", np.nan), ("Y", np.inf)])
def test_a_cell_of_z_or_y_that_is_no_finite_number_is_named(table: str, value: float) -> None:
    """Found by a helper's fuzzing: a NaN in Z failed only the identity check ("1.60e-02"), naming no cell, and an
    inf in Y read as "needs row 0: target is not finite"."""
    io = _test_system()
    getattr(io, table).loc[("reg1", "food"), ("reg1", getattr(io, table).columns[0][1])] = value
    with pytest.raises(PymrioBridgeError, match=rf"{table} at row .*reg1.*food.* is not a finite number: {value!r}"):
        from_pymrio(io, "reg1")


def test_a_product_no_final_demand_reaches_keeps_its_technology_in_pymrio() -> None:
    """A helper's fuzzing: product c, used by nobody and not needed, has no gross output; pymrio derived A = Z / x
    and S = F / x, so c lost its inputs (pymrio's labour multiplier 0 against needplan's 4.667). Now A and S are
    given; pymrio's own multipliers equal needplan's, and the way back drops c (no output), as it always did."""
    from test_plan_helpers import economy

    eco = economy([("a", "product"), ("b", "product"), ("c", "product"), ("lab", "labour")],
                  [("ta", "a", 1.0, None, 1.0), ("tb", "b", 1.0, None, 1.0), ("tc", "c", 1.0, None, 1.0)],
                  [("ta", "b", 0.5), ("ta", "lab", 1.0), ("tb", "a", 0.2), ("tb", "lab", 2.0), ("tc", "a", 0.3),
                   ("tc", "lab", 4.0)], [("lab", 100.0)], [("b", 10.0, 1.0)])
    ours = analyze(eco)
    assert ours.gross_output["c"] == 0.0
    io = to_pymrio(eco)
    np.testing.assert_allclose(io.A.to_numpy(), eco.technology().A.toarray(), rtol=0, atol=0)
    io.calc_all()
    theirs = io.labour.M.loc["lab"].to_numpy()
    np.testing.assert_allclose(theirs, ours.embodied["lab"].to_numpy(), rtol=1e-12)
    assert theirs[2] == pytest.approx(4.0 + 0.3 * (1.0 + 0.5 * 2.0) / (1 - 0.1))  # c: 4 + 0.3 a, a = 2.2222
    back = from_pymrio(io, "test", labour="labour")
    assert list(back.goods[back.products]) == ["a", "b"] and back.provenance["dropped_sectors"] == ["c"]
