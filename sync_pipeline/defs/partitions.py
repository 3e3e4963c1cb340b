"""Store partitions, declared once: one partition per store key in the stores file.

The stores file is read when the code location loads, so adding or removing a store is an edit
of the file (and a reload of the code location), never of code.
"""

from __future__ import annotations

from dagster import StaticPartitionsDefinition

from sync_pipeline.stores import load_stores

store_partitions = StaticPartitionsDefinition(load_stores().keys())
