"""政务登记数据质量工具包 / data-quality toolkit for Chinese government registration data.

The standards live as Great Expectations suites in ``expectations/<domain>/``; this package loads
batches, prepares views, runs the suites as a checkpoint and writes counts, problem lists and Data Docs.
"""

from toolkit.check import CheckResult, run_check
from toolkit.domain import Domain, Rule, load_domain
from toolkit.errors import (
    BatchNotFoundError,
    ConfigError,
    DQError,
    InputError,
    MissingColumnError,
    NoKnownTableError,
    UnreadableFileError,
)
from toolkit.loading import Batch, LoadedTable, load_batch, read_table
from toolkit.masking import mask_id, mask_name, mask_phone, mask_value
from toolkit.outputs import write_outputs
from toolkit.samples import generate_sample
from toolkit.workdays import WorkdayCalendar

__all__ = [
    "Batch",
    "BatchNotFoundError",
    "CheckResult",
    "ConfigError",
    "DQError",
    "Domain",
    "InputError",
    "LoadedTable",
    "MissingColumnError",
    "NoKnownTableError",
    "Rule",
    "UnreadableFileError",
    "WorkdayCalendar",
    "generate_sample",
    "load_batch",
    "load_domain",
    "mask_id",
    "mask_name",
    "mask_phone",
    "mask_value",
    "read_table",
    "run_check",
    "write_outputs",
]
