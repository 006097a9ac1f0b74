"""Plans of generated economies are verified optimal: quality, joint products and alternatives together."""

from __future__ import annotations

import numpy as np
import pytest

from needplan.data.generate import generate_economy
from needplan.plan import build_plan


@pytest.mark.parametrize("seed", [1, 3])
def test_structured_economy_plan_is_verified(seed: int) -> None:
    economy = generate_economy(600, family="structured", seed=seed)
    assert not np.all(economy.technique_quality == 1.0)  # quality differs, so need rows differ from balances
    result = build_plan(economy, "ray").solve("highs", 1e-6)
    assert result.status == "optimal", result.solver
    assert max(result.residuals.values()) < 1e-6
    # Products nobody needs only have to balance physically, even when made at low quality.
    net = result.products["net_output"].to_numpy()
    assert net.min() > -1e-6 * max(1.0, float(np.abs(net).max()))
