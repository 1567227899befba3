from __future__ import annotations

import pytest

from evwire.tag.tagger import Tagger
from tests.tag.helpers import test_catalog


@pytest.fixture(scope="session")
def small_tagger() -> Tagger:
    return Tagger(test_catalog())
