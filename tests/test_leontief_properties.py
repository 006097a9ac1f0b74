"""Property tests of the Leontief core on random productive economies."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from needplan import leontief


@st.composite
def productive_systems(draw: st.DrawFn) -> tuple[sp.csr_matrix, np.ndarray]:
    """A random sparse A >= 0 with spectral radius below one (column sums scaled below ``rho``) and d >= 0."""
    n = draw(st.integers(2, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.05, 0.6))
    rho = draw(st.floats(0.05, 0.95))
    rng = np.random.default_rng(seed)
    A = sp.random(n, n, density=density, random_state=rng, format="csr")
    col = np.asarray(A.sum(axis=0)).ravel()
    col[col == 0] = 1.0
    A = sp.csr_matrix(A @ sp.diags(rho * rng.uniform(0.2, 1.0, n) / col))
    d = rng.uniform(0.0, 100.0, n) * (rng.random(n) < 0.8)
    return A, d


def _check(A: sp.csr_matrix, x: np.ndarray, d: np.ndarray, rel: float) -> None:
    r = (x - A @ x) - d
    assert np.max(np.abs(r)) <= rel * max(np.max(np.abs(d)), 1e-300) + 1e-300


@settings(max_examples=150, deadline=None, derandomize=True)
@given(productive_systems())
def test_solution_balances_and_covers_demand(system: tuple[sp.csr_matrix, np.ndarray]) -> None:
    A, d = system
    for method in ("neumann", "direct", "auto"):
        x, rep = leontief.gross_output(A, d, method=method)  # type: ignore[arg-type]
        _check(A, x, d, 1e-9)
        assert np.all(x >= d - 1e-9 * max(d.max(), 1.0))
        assert rep.converged and rep.residual <= 1e-9


@settings(max_examples=100, deadline=None, derandomize=True)
@given(productive_systems(), st.floats(0.01, 1000.0))
def test_gross_output_is_linear_in_demand(system: tuple[sp.csr_matrix, np.ndarray], k: float) -> None:
    A, d = system
    x1, _ = leontief.gross_output(A, d)
    xk, _ = leontief.gross_output(A, k * d)
    np.testing.assert_allclose(xk, k * x1, rtol=1e-9, atol=1e-9 * k * max(d.max(), 1.0))
    d2 = np.roll(d, 1)
    x2, _ = leontief.gross_output(A, d2)
    xs, _ = leontief.gross_output(A, d + d2)
    np.testing.assert_allclose(xs, x1 + x2, rtol=1e-9, atol=1e-9 * max(d.max(), 1.0))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(productive_systems())
def test_iterative_and_direct_agree_including_transposed(system: tuple[sp.csr_matrix, np.ndarray]) -> None:
    A, d = system
    xn, rn = leontief.solve(A, d, method="neumann")
    xd, _ = leontief.solve(A, d, method="direct")
    scale = max(np.max(np.abs(xd)), 1.0)
    np.testing.assert_allclose(xn, xd, rtol=0, atol=1e-9 * scale)
    assert rn.method == "neumann"
    R = np.vstack([np.ones(A.shape[0]), d])  # two "primaries"
    vn, _ = leontief.embodied_inputs(A, R, method="neumann")
    vd, _ = leontief.embodied_inputs(A, R, method="direct")
    np.testing.assert_allclose(vn, vd, rtol=0, atol=1e-9 * max(np.max(np.abs(vd)), 1.0))
    # What is embodied in final demand equals what gross output uses directly (the value identity).
    np.testing.assert_allclose(vd.T @ d, R @ xd, rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(productive_systems())
def test_productive_systems_pass_and_scaled_up_ones_fail(system: tuple[sp.csr_matrix, np.ndarray]) -> None:
    A, _ = system
    ok, blocking = leontief.check_productive(A)
    assert ok and blocking == ()
    rho = max(abs(np.linalg.eigvals(A.toarray())))
    if rho > 1e-6:
        bad = A * (1.5 / rho)
        ok, blocking = leontief.check_productive(bad)
        assert not ok and len(blocking) > 0


@pytest.mark.parametrize("factor", [1e-6, 1e-3, 1.0, 1e3, 1e9])
def test_productive_with_a_joint_product_whatever_its_units(factor: float) -> None:
    """Grain (good 0) makes leather (good 1) jointly: A has a negative entry. Whether (I - A) x = 1 has x >= 0
    then depends on the units (grain per tonne: one unit of final grain brings so much leather that leather's own
    technique would have to run backwards); productive must not: some x >= 0 with (I - A) x > 0 exists in every
    unit. Rescaling good 0 by ``factor`` is the similarity D A D^-1."""
    A = np.array([[0.12, 0.0, 0.05], [-0.002, 0.0, 0.4], [0.0, 0.3, 0.1]])
    D = np.diag([factor, 1.0, 1.0])
    scaled = sp.csr_matrix(D @ A @ np.linalg.inv(D))
    assert leontief.check_productive(scaled) == (True, ())
    # Tripled, the leather loop (1.2 x 0.9 > 1) is still productive, fed by grain's joint leather (the LP finds
    # x = (240, 1, 2)); times nine, grain uses 1.08 of itself and no plan can have a net output of grain.
    assert leontief.check_productive(sp.csr_matrix(D @ (3 * A) @ np.linalg.inv(D))) == (True, ())
    ok, blocking = leontief.check_productive(sp.csr_matrix(D @ (9 * A) @ np.linalg.inv(D)))
    assert not ok and 0 in blocking


@pytest.mark.parametrize("spread", [6.0, 9.0])
def test_productive_whatever_the_units_of_the_products(spread: float) -> None:
    """The same generated economy with its products counted in units up to 10^(2 spread) apart (D A D^-1): the
    Neumann solve of (I - A) x = 1 stalled at a residual relative to |d| (x spans 10^-spread..10^spread); relative
    to each product's own flows, as it is measured since session 22, it converges, and x >= 0: productive, as in
    the original units. At 10^9 a surplus of one unit is itself below the rounding of a product's flows of 10^14
    units; a surplus in proportion to each product's flows is not."""
    from needplan.data.generate import generate_economy

    A0 = generate_economy(300, seed=3).technology().A
    assert leontief.check_productive(A0) == (True, ())
    d = 10.0 ** np.random.default_rng(0).uniform(-spread, spread, size=A0.shape[0])
    A = sp.csr_matrix(sp.diags(d) @ A0 @ sp.diags(1 / d))
    assert leontief.solve(A, np.ones(A.shape[0]), tol=1e-12)[1].converged  # the residual is free of units
    assert leontief.check_productive(A) == (True, ())
    assert not leontief.check_productive(sp.csr_matrix(A * 3.0))[0]  # spectral radius ~1.5: not productive


def test_spectral_radii_decide_when_every_surplus_plan_is_lost_to_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """For A >= 0, productive means every strongly connected group has spectral radius below one; when no plan
    passes the rounding test that decides, and a "not productive" never comes without the products to blame."""
    from needplan.data.generate import generate_economy

    A0 = generate_economy(300, seed=3).technology().A
    d = 10.0 ** np.random.default_rng(0).uniform(-3, 3, size=A0.shape[0])
    A = sp.csr_matrix(sp.diags(d) @ A0 @ sp.diags(1 / d))  # row and column sums above one: no shortcut
    monkeypatch.setattr(leontief, "_is_surplus_plan", lambda A, x: False)
    assert leontief.check_productive(A) == (True, ())
    ok, blocking = leontief.check_productive(sp.csr_matrix(A * 3.0))
    assert not ok and len(blocking) == A.shape[0]


def _uniform_block(n: int, seed: int, rho: float = 0.6, inputs: int = 8) -> sp.csr_matrix:
    """A sparse random A >= 0 as in the uniform generated family: ``inputs`` random suppliers per product, each
    column summing to ``rho`` (so the Perron root is ``rho`` and the rest of the spectrum far below it)."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(n, inputs)).ravel()
    cols = np.repeat(np.arange(n), inputs)
    vals = rng.uniform(0.1, 1.0, n * inputs)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    return sp.csr_matrix(A @ sp.diags(rho / np.asarray(A.sum(axis=0)).ravel()))


def _jacobi_steps(A: sp.csr_matrix, d: np.ndarray, pair: leontief.PerronDeflation | None) -> tuple[np.ndarray, int]:
    x = d.copy()
    for k in range(1, 1000):
        r = d - (x - A @ x)
        if np.max(np.abs(r)) <= 1e-12 * np.max(np.abs(d)):
            return x, k
        if pair is None:
            x += r
        else:
            pair.advance(x, r)
    raise AssertionError("no convergence")


@pytest.mark.parametrize("seed", range(4))
def test_perron_deflation_solves_the_same_system_in_fewer_steps(seed: int) -> None:
    """Taking the Perron root (0.6) out of the Jacobi error leaves the next eigenvalue (about 0.6 / sqrt(8)) to
    set the rate: the same solution to 1e-12 in well under two thirds of the steps, forward and transposed."""
    n = 2000
    A = _uniform_block(n, seed)
    # Jacobi on I - A (D = I): G = A.
    pair = leontief.perron_deflation(lambda v: A @ v, lambda w: A.T @ w, n)
    assert pair is not None
    assert pair.rho == pytest.approx(0.6, rel=1e-3)
    d = np.random.default_rng(seed).uniform(0.0, 10.0, n)
    exact = sp.linalg.spsolve(sp.identity(n, format="csc") - A.tocsc(), d)
    plain_x, plain = _jacobi_steps(A, d, None)
    fast_x, fast = _jacobi_steps(A, d, pair)
    np.testing.assert_allclose(fast_x, exact, rtol=1e-9)
    np.testing.assert_allclose(plain_x, exact, rtol=1e-9)
    assert fast <= 0.65 * plain
    At = sp.csr_matrix(A.T)
    exact_t = sp.linalg.spsolve(sp.identity(n, format="csc") - At.tocsc(), d)
    scale = np.ones(n)
    t_x, t_steps = _jacobi_steps(At, d, pair.transposed(scale))
    np.testing.assert_allclose(t_x, exact_t, rtol=1e-9)
    assert t_steps <= 0.65 * plain


def test_perron_deflation_of_a_barely_productive_economy() -> None:
    """At rho = 0.995 the deflation's gain is 199, so the pair is found to (1 - rho) / 10 and the deflated
    iteration still converges to the direct solution, in a few hundred steps where the plain one needs thousands."""
    n = 1500
    A = _uniform_block(n, 7, rho=0.995)
    pair = leontief.perron_deflation(lambda v: A @ v, lambda w: A.T @ w, n)
    assert pair is not None and pair.rho == pytest.approx(0.995, rel=1e-4)
    d = np.random.default_rng(7).uniform(0.0, 10.0, n)
    exact = sp.linalg.spsolve(sp.identity(n, format="csc") - A.tocsc(), d)
    x, steps = _jacobi_steps(A, d, pair)
    np.testing.assert_allclose(x, exact, rtol=1e-8)
    assert steps < 200  # plain Jacobi: log(1e-12) / log(0.995), about 5,500 steps


def test_perron_deflation_declines_without_a_clear_perron_root() -> None:
    """No pair where it would not help or would mislead: a non-productive block (rho >= 1), and a cyclic one whose
    spectrum has every eigenvalue on the Perron root's circle (the power iteration never settles)."""
    n = 500
    over = _uniform_block(n, 0, rho=1.2)
    assert leontief.perron_deflation(lambda v: over @ v, lambda w: over.T @ w, n) is None
    weights = np.random.default_rng(0).uniform(0.3, 0.7, n)  # all n eigenvalues on one circle, none real-dominant
    cycle = sp.csr_matrix((weights, (np.roll(np.arange(n), 1), np.arange(n))), shape=(n, n))
    assert leontief.perron_deflation(lambda v: cycle @ v, lambda w: cycle.T @ w, n) is None


@pytest.mark.parametrize("columns", [0, 3])
def test_row_blocks_products_on_two_threads(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``M @ v`` by the two halves of the rows on two threads is bit for bit one product, for one vector or
    several columns, and the halves are views of the matrix."""
    monkeypatch.setattr(leontief, "PARALLEL_FROM", 100)
    M = _uniform_block(3000, 5)
    rng = np.random.default_rng(5)
    v = rng.normal(size=(3000, columns) if columns else 3000)
    blocks = leontief.RowBlocks(M)
    assert len(blocks.halves) == 2 and np.shares_memory(blocks.halves[1].data, M.data)
    assert np.array_equal(blocks.dot(v), M @ v)
    monkeypatch.setattr(leontief, "PARALLEL_FROM", 10**9)
    assert leontief.RowBlocks(M).halves == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.filterwarnings("ignore:This process.*is multi-threaded:DeprecationWarning")  # Python 3.12 on
def test_row_blocks_work_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child forked after the threads exist inherits none of them; its products must not wait for them (an
    alarm ends a child that hangs, and the test sees its exit status)."""
    monkeypatch.setattr(leontief, "PARALLEL_FROM", 100)
    M = _uniform_block(2000, 3)
    v = np.ones(2000)
    blocks = leontief.RowBlocks(M)
    expected = blocks.dot(v)  # the parent's threads now exist
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only with the right product, within 20 s
        signal.alarm(20)
        os._exit(0 if np.array_equal(blocks.dot(v), expected) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


@pytest.mark.parametrize("method", ["neumann", "direct"])
def test_one_good_in_a_tiny_unit_changes_no_result(method: str) -> None:
    """Fuzzing (session 22): one good of 300 counted in grams beside the others in kilotonnes (its row times 1e9,
    its column divided by it, its demand times 1e9). Judged against the largest final demand, the Neumann solve
    stopped after 6 steps with 299 goods up to 1.4e-4 off and said converged; and multipliers of 1e9, exact,
    read as unsolved (a residual against a right-hand side of 1). Each product's residual is now judged against its
    own flows: the same steps and residual in either unit, and results that transform exactly."""
    rng = np.random.default_rng(3)
    n = 300
    A = sp.random(n, n, density=10 / n, random_state=rng, format="lil")
    A[0, :] = 0  # good 0 (bread) is used by nobody
    A = sp.csr_matrix(A)
    A = sp.csr_matrix(A.multiply(0.5 / A.sum(axis=0).max()))
    d = rng.random(n)
    S = np.ones(n)
    S[0] = 1e9
    As = sp.csr_matrix(sp.diags(S) @ A @ sp.diags(1 / S))
    dense = np.linalg.solve(np.eye(n) - A.toarray(), d)
    _, r0 = leontief.gross_output(A, d, method=method)
    x, rep = leontief.gross_output(As, S * d, method=method)
    assert rep.converged and r0.converged and rep.residual == pytest.approx(r0.residual, rel=0.5, abs=1e-15)
    np.testing.assert_allclose(x / S, dense, rtol=1e-10)
    m, rep_m = leontief.output_multipliers(As, method=method)
    assert rep_m.converged
    exact = (S[:, None] * np.linalg.inv(np.eye(n) - A.toarray()) / S[None, :]).sum(axis=0)
    np.testing.assert_allclose(m, exact, rtol=1e-10)


def test_a_direct_solve_is_refined_whatever_the_units_of_the_products() -> None:
    """A helper's fuzzing: 400 products, spectral radius 0.99, counted in units up to 10^8 apart (D A D^-1): the
    direct solve left a relative residual of 1.1e-11 and analysis refused the economy as "too ill-conditioned for
    double precision", though the same economy in plain units solved to 1.5e-15. Iterative refinement with the same
    factors: the answer is the plain one in the new units, to the tolerance."""
    import scipy.sparse.linalg as spla

    rng = np.random.default_rng(0)
    n = 400
    A0 = sp.random(n, n, density=8 / n, random_state=1, format="csr")
    A0.data = rng.uniform(0, 1, A0.nnz)
    A0 = sp.csr_matrix(A0 * (0.99 / abs(spla.eigs(A0, k=1, return_eigenvectors=False)[0])))
    units = 10.0 ** rng.uniform(-4, 4, n)
    A = sp.csr_matrix(sp.diags(units) @ A0 @ sp.diags(1 / units))
    plain, _ = leontief.solve(A0, np.full(n, 10.0), method="direct")
    x, report = leontief.solve(A, 10.0 * units, method="direct")
    assert report.converged and report.residual <= 1e-14, report
    np.testing.assert_allclose(x / units, plain, rtol=1e-9)


def test_productive_with_joint_products_in_units_far_apart_even_where_the_simplex_gives_up() -> None:
    """A helper's fuzzing: 27 products with joint products, coefficients from 7e-14 to 1.2e10 (goods counted in
    units up to 10^12 apart). HiGHS's simplex ended "Unknown" on the balanced surplus LP and the economy was refused
    as not productive; its interior point method finds the plan. The certificate is checked here in plain
    arithmetic: an activity whose net output of every product is positive."""
    from pathlib import Path

    from scipy.optimize import linprog

    A = np.loadtxt(Path(__file__).parent / "data" / "productive_joint_units_1e12.csv", delimiter=",")
    assert (A < 0).any() and np.abs(A[A != 0]).max() / np.abs(A[A != 0]).min() > 1e20
    n = A.shape[0]
    M = np.eye(n) - A
    r, c = leontief.equilibrate(sp.csr_matrix(M), leontief.EQUILIBRATION_ROUNDS)
    res = linprog(np.zeros(n), A_ub=-(r[:, None] * M * c[None, :]), b_ub=-np.ones(n), bounds=(0, None),
                  method="highs-ipm")
    x = res.x * c
    assert res.status == 0 and np.all(x >= 0) and np.all(x - A @ x > 0)  # productive, independently
    assert leontief.check_productive(sp.csr_matrix(A)) == (True, ())
