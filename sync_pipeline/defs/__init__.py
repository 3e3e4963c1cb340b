"""The Dagster layer: assets, checks, jobs, sensors and resources (see ``sync_pipeline.definitions``)."""

import warnings

from dagster import PreviewWarning

# One verdict per store needs partitioned asset checks, a Dagster preview feature chosen knowingly
# (ARCHITECTURE.md). Its notice would otherwise be printed by every process that loads the code
# location - webserver, daemon, code server, each run - to people who cannot act on it.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning)
