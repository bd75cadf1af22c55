"""Start grids shared by the laws: the Chinchilla replication's initialisation grid.

Besiroglu et al. 2024 (arXiv 2404.10102, section 3) screen E, A, B in log space and
the exponents linearly; every law with such parameters starts from these values
(natural units), so a formula typed by hand gets the same starts as the built-in law.
"""

from __future__ import annotations

import numpy as np

# Irreducible loss E: log E in {-1, -0.5, ..., 1}.
LOG_E_GRID = tuple(np.exp(np.arange(-1.0, 1.01, 0.5)))
# Positive scales (A, B, ...): log A in {0, 5, ..., 25}.
LOG_SCALE_GRID = tuple(np.exp(np.arange(0.0, 26.0, 5.0)))
# Exponents (alpha, beta, ...): {0, 0.5, ..., 2}.
EXPONENT_GRID = tuple(np.arange(0.0, 2.01, 0.5))
