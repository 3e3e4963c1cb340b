"""Column types and defaults shared by the Magento table definitions (``schema.py``, ``schema_msi.py``).

On MySQL/MariaDB the integer columns are ``UNSIGNED`` like Magento's. SQLite gets plain
``INTEGER`` columns so that single-column primary keys stay auto-incrementing there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

MYSQL = ("mysql", "mariadb")


def uint() -> sa.types.TypeEngine[int]:
    return sa.Integer().with_variant(mysql.INTEGER(unsigned=True), *MYSQL)


def usmallint() -> sa.types.TypeEngine[int]:
    return sa.Integer().with_variant(mysql.SMALLINT(unsigned=True), *MYSQL)


def smallint() -> sa.types.TypeEngine[int]:
    return sa.Integer().with_variant(mysql.SMALLINT(), *MYSQL)


def mediumtext() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), *MYSQL)


def timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.TIMESTAMP(), *MYSQL)


def now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def zero() -> sa.TextClause:
    return sa.text("0")


def fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def flag(name: str, default: int) -> sa.Column[int]:
    return sa.Column(name, usmallint(), nullable=False, server_default=sa.text(str(default)))


def innodb(tables: Iterable[sa.Table]) -> None:
    """Magento's tables are InnoDB with a case-insensitive utf8mb4 collation; SQLite ignores these options."""
    for table in tables:
        table.dialect_kwargs.update(mysql_engine="InnoDB", mysql_charset="utf8mb4",
                                    mysql_collate="utf8mb4_general_ci")
