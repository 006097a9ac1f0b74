"""Known answers: Miller and Blair's two-sector example and a hand-worked three-sector economy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from needplan import Economy, build_economy, leontief
from needplan.analysis import AnalysisError, analyze

# Miller & Blair, Input-Output Analysis (2nd ed.), section 2.3: interindustry flows Z = [[150, 500], [200, 100]],
# gross outputs x = [1000, 2000], final demand f = [350, 1700].
MB_A = np.array([[0.15, 0.25], [0.20, 0.05]])
MB_L = np.array([[1.2541, 0.3300], [0.2640, 1.1221]])  # the book's Leontief inverse, to four decimals


def miller_blair_economy() -> Economy:
    goods = pd.DataFrame({"good": ["agriculture", "manufacturing", "value_added"],
                          "kind": ["product", "product", "labour"], "unit": ["$", "$", "$"]})
    techniques = pd.DataFrame({"technique": ["t_agr", "t_mfg"], "good": ["agriculture", "manufacturing"]})
    inputs = pd.DataFrame({
        "technique": ["t_agr", "t_agr", "t_agr", "t_mfg", "t_mfg", "t_mfg"],
        "good": ["agriculture", "manufacturing", "value_added"] * 2,
        # value added per unit of output: (1000 - 350) / 1000 and (2000 - 600) / 2000
        "amount": [0.15, 0.20, 0.65, 0.25, 0.05, 0.70],
    })
    resources = pd.DataFrame({"good": ["value_added"], "available": [2050.0]})
    needs = pd.DataFrame({"good": ["agriculture", "manufacturing"], "target": [350.0, 1700.0]})
    return build_economy({"goods": goods, "techniques": techniques, "inputs": inputs, "resources": resources,
                          "needs": needs}, name="miller-blair")


def test_miller_blair_technology_matrix() -> None:
    tech = miller_blair_economy().technology()
    np.testing.assert_allclose(tech.A.toarray(), MB_A, rtol=0, atol=1e-15)


def test_miller_blair_leontief_inverse() -> None:
    np.testing.assert_allclose(leontief.leontief_inverse_dense(MB_A), MB_L, atol=5e-5)


@pytest.mark.parametrize("method", ["neumann", "direct"])
def test_miller_blair_gross_output(method: str) -> None:
    economy = miller_blair_economy()
    a = analyze(economy, method=method)  # type: ignore[arg-type]
    np.testing.assert_allclose(a.gross_output.to_numpy(), [1000.0, 2000.0], rtol=1e-10)
    # The book's second experiment: final demand (600, 1500) needs x = (1247.52, 1841.58).
    b = analyze(economy, pd.Series({"agriculture": 600.0, "manufacturing": 1500.0}), method=method)  # type: ignore[arg-type]
    np.testing.assert_allclose(b.gross_output.to_numpy(), [1247.52, 1841.58], atol=0.005)
    # All of a dollar of output is value added somewhere upstream.
    np.testing.assert_allclose(a.embodied["value_added"].to_numpy(), [1.0, 1.0], rtol=1e-10)
    # Output multipliers are the column sums of the book's inverse.
    np.testing.assert_allclose(a.multipliers.to_numpy(), MB_L.sum(axis=0), atol=1e-4)
    assert a.solver.residual < 1e-12


def three_sector_economy(final_bread: float = 100.0) -> Economy:
    """Coal, steel and bread with unskilled and skilled labour; worked by hand in the test below."""
    goods = pd.DataFrame({"good": ["coal", "steel", "bread", "unskilled", "skilled"],
                          "kind": ["product"] * 3 + ["labour"] * 2, "unit": ["t", "t", "t", "h", "h"]})
    techniques = pd.DataFrame({"technique": ["mine", "mill", "bakery"], "good": ["coal", "steel", "bread"]})
    inputs = pd.DataFrame([
        ("mine", "coal", 0.1), ("mine", "unskilled", 0.5),
        ("mill", "coal", 0.5), ("mill", "unskilled", 0.2), ("mill", "skilled", 0.3),
        ("bakery", "coal", 0.2), ("bakery", "steel", 0.1), ("bakery", "unskilled", 0.4), ("bakery", "skilled", 0.1),
    ], columns=["technique", "good", "amount"])
    resources = pd.DataFrame({"good": ["unskilled", "skilled"], "available": [100.0, 20.0]})
    needs = pd.DataFrame({"good": ["bread"], "target": [final_bread]})
    return build_economy({"goods": goods, "techniques": techniques, "inputs": inputs, "resources": resources,
                          "needs": needs}, name="three-sector")


@pytest.mark.parametrize("method", ["neumann", "direct"])
def test_three_sector_by_hand(method: str) -> None:
    a = analyze(three_sector_economy(), method=method)  # type: ignore[arg-type]
    # bread = 100; steel = 0.1 * 100 = 10; coal = (0.5 * 10 + 0.2 * 100) / (1 - 0.1) = 25 / 0.9
    np.testing.assert_allclose(a.gross_output[["coal", "steel", "bread"]].to_numpy(), [25 / 0.9, 10.0, 100.0],
                               rtol=1e-12)
    # unskilled: coal 0.5/0.9; steel 0.2 + 0.5 * 0.5/0.9; bread 0.4 + 0.1 * steel + 0.2 * coal
    coal_u = 0.5 / 0.9
    steel_u = 0.2 + 0.5 * coal_u
    bread_u = 0.4 + 0.1 * steel_u + 0.2 * coal_u
    np.testing.assert_allclose(a.embodied.loc[["coal", "steel", "bread"], "unskilled"].to_numpy(),
                               [coal_u, steel_u, bread_u], rtol=1e-12)
    # skilled: coal 0; steel 0.3; bread 0.1 + 0.1 * 0.3
    np.testing.assert_allclose(a.embodied.loc[["coal", "steel", "bread"], "skilled"].to_numpy(),
                               [0.0, 0.3, 0.13], rtol=1e-12, atol=1e-15)
    # Total labour used equals labour embodied in final demand.
    tech = three_sector_economy().technology()
    direct_labour = tech.R @ a.gross_output.to_numpy()
    np.testing.assert_allclose(direct_labour, 100 * a.embodied.loc["bread"].to_numpy(), rtol=1e-12)


def test_neumann_reports_iterations_and_falls_back_when_slow() -> None:
    n = 300
    A = sp.diags(np.full(n - 1, 0.5), -1, format="csr")
    x, rep = leontief.solve(A, np.ones(n), method="auto")
    assert rep.method == "neumann" and 10 < rep.iterations < 100 and rep.converged
    # spectral radius 0.999: geometric convergence would need ~25,000 steps, so the iteration hands over.
    slow = sp.diags(np.full(n, 0.999), 0, format="csr")
    x, rep = leontief.solve(slow, np.ones(n), method="auto", max_iter=500)
    assert rep.method == "neumann->direct" and rep.converged
    np.testing.assert_allclose(x, 1000.0, rtol=1e-9)
    # Forced Neumann without enough steps says it did not converge rather than returning a wrong answer.
    x, rep = leontief.solve(slow, np.ones(n), method="neumann", max_iter=500)
    assert not rep.converged and rep.residual > 1e-3


def test_joint_product_is_credited() -> None:
    """A joint product lowers the gross output its own technique must deliver."""
    goods = pd.DataFrame({"good": ["meat", "leather", "labour"], "kind": ["product", "product", "labour"],
                          "unit": ["t", "t", "h"]})
    techniques = pd.DataFrame({"technique": ["slaughter", "tannery"], "good": ["meat", "leather"]})
    inputs = pd.DataFrame({"technique": ["slaughter", "tannery"], "good": ["labour", "labour"],
                           "amount": [1.0, 2.0]})
    outputs = pd.DataFrame({"technique": ["slaughter"], "good": ["leather"], "amount": [0.1]})
    needs = pd.DataFrame({"good": ["meat", "leather"], "target": [100.0, 30.0]})
    e = build_economy({"goods": goods, "techniques": techniques, "inputs": inputs, "outputs": outputs,
                       "resources": pd.DataFrame({"good": [], "available": []}), "needs": needs}, name="joint")
    a = analyze(e)
    # 100 t of meat bring 10 t of leather, so the tannery makes only 20 t.
    np.testing.assert_allclose(a.gross_output[["meat", "leather"]].to_numpy(), [100.0, 20.0], rtol=1e-12)


def test_neumann_tolerates_a_residual_that_rises_between_steps() -> None:
    """With joint products A has negative entries and the residual need not fall at every step."""
    A = sp.csr_matrix(np.array([[0.0, 2.0], [-0.1, 0.0]]))  # eigenvalues +-0.447i: converges, not monotonically
    d = np.array([1.0, 1.0])
    x, rep = leontief.solve(A, d, method="neumann")
    assert rep.method == "neumann" and rep.converged and rep.residual < 1e-12
    np.testing.assert_allclose(x, np.linalg.solve(np.eye(2) - A.toarray(), d), rtol=1e-12)


@pytest.mark.parametrize("method", ["auto", "direct", "neumann"])
def test_a_chosen_technique_that_uses_more_than_it_makes_is_refused(method: str) -> None:
    """A helper's fuzzing: validation checks each product's first technique; ``choice`` picked one that uses 2
    units of its own product per unit, and the direct solve gave an embodied labour of -1 and a multiplier of -1,
    'converged', with a note blaming joint products where there are none."""
    from test_plan_helpers import economy

    eco = economy([("a", "product"), ("b", "product"), ("lab", "labour")],
                  [("a1", "a", 1.0, None, 1.0), ("a2", "a", 1.0, None, 1.0), ("b1", "b", 1.0, None, 1.0)],
                  [("a1", "a", 0.5), ("a1", "lab", 1.0), ("a2", "a", 2.0), ("a2", "lab", 1.0), ("b1", "lab", 1.0)],
                  [("lab", 100.0)], [("b", 10.0, 1.0)])
    assert analyze(eco, method=method).embodied.at["a", "lab"] == pytest.approx(2.0)  # a1: 1 / (1 - 0.5)
    with pytest.raises(AnalysisError, match="not productive with the techniques chosen: a uses up at least as much "
                                            "of itself as it makes"):
        analyze(eco, choice={"a": "a2"}, method=method)  # type: ignore[arg-type]


def test_an_economy_built_without_the_productivity_check_is_checked_by_analyze() -> None:
    """The same loop as the first technique of a product, in an economy built with ``check_productive=False``: a
    direct solve gave embodied labour -1 for it, and the Neumann iteration's hint called the economy "barely
    productive"."""

    tables = {"goods": pd.DataFrame({"good": ["a", "b", "lab"], "kind": ["product", "product", "labour"],
                                     "unit": "u"}),
              "techniques": pd.DataFrame({"technique": ["ta", "tb"], "good": ["a", "b"]}),
              "inputs": pd.DataFrame({"technique": ["ta", "ta", "tb"], "good": ["a", "lab", "lab"],
                                      "amount": [2.0, 1.0, 1.0]}),
              "resources": pd.DataFrame({"good": ["lab"], "available": [100.0]}),
              "needs": pd.DataFrame({"good": ["b"], "target": [10.0]})}
    eco = build_economy(tables, name="loop", check_productive=False)
    for method in ("auto", "direct", "neumann"):
        with pytest.raises(AnalysisError, match="not productive with the techniques of each product first listed: a "
                                                "uses up at least as much of itself as it makes"):
            analyze(eco, method=method)  # type: ignore[arg-type]
