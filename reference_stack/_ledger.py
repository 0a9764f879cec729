"""deposito's SQLite product table and stock ledger (docs/contract.md §4).

Every movement runs in one ``BEGIN IMMEDIATE`` transaction: the idempotency key lookup, the stock
check and both writes are serialised across threads and processes, so a retried request with the
same key returns the first result, stock never goes negative, and each acknowledged movement is
applied exactly once. ``ledger_corruption`` breaks exactly that last promise.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from generators.catalogue import Product

PRODUCT_FIELDS = (
    "id", "codigo", "nombre", "categoria", "precio_compra", "precio_venta", "stock_actual", "stock_minimo",
)
PROVIDERS_BY_CATEGORY = {
    "Almacén": "Distribuidora Norte SA",
    "Lácteos": "Lácteos del Sur SRL",
    "Bebidas": "Bebidas Patagónicas SA",
    "Golosinas": "Dulces Argentinos SRL",
    "Snacks": "Dulces Argentinos SRL",
    "Limpieza": "Higiene Total SA",
    "Perfumería": "Higiene Total SA",
}
DEFAULT_PROVIDER = "Mayorista Central SA"
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE productos (
    id INTEGER PRIMARY KEY, codigo TEXT NOT NULL UNIQUE, nombre TEXT NOT NULL, categoria TEXT NOT NULL,
    proveedor TEXT NOT NULL, precio_compra REAL NOT NULL, precio_venta REAL NOT NULL,
    stock_actual INTEGER NOT NULL CHECK (stock_actual >= 0), stock_minimo INTEGER NOT NULL
);
CREATE TABLE movimientos (
    id INTEGER PRIMARY KEY AUTOINCREMENT, producto_id INTEGER NOT NULL REFERENCES productos(id),
    tipo TEXT NOT NULL, cantidad INTEGER NOT NULL, stock_anterior INTEGER NOT NULL,
    stock_nuevo INTEGER NOT NULL, idempotency_key TEXT UNIQUE, created_at REAL NOT NULL
);
"""


class ProductNotFound(Exception):
    """No product with that id or code."""


class InsufficientStock(Exception):
    """A ``salida`` larger than the stock on hand."""

    def __init__(self, stock_actual: int, cantidad: int) -> None:
        super().__init__(f"insufficient stock: {stock_actual} on hand, {cantidad} requested")
        self.stock_actual = stock_actual


def create_database(path: Path, products: Iterable[Product]) -> None:
    """A fresh database seeded with ``products`` (any previous file at ``path`` is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        conn.executemany(
            "INSERT INTO productos VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (p.id, p.codigo, p.nombre, p.categoria, PROVIDERS_BY_CATEGORY.get(p.categoria, DEFAULT_PROVIDER),
                 p.precio_compra, p.precio_venta, p.stock_actual, p.stock_minimo)
                for p in products
            ],
        )
    conn.close()


class Ledger:
    """Thread-safe access to the database: one connection per thread, short transactions."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._read_only = read_only
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.exists():
                raise sqlite3.OperationalError(f"database file {self.path.name} is missing")
            uri = f"file:{self.path}?mode={'ro' if self._read_only else 'rw'}"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ping(self) -> str | None:
        """None when the database answers, else why not (health turns it into a 503)."""
        if not self.path.exists():  # an open connection would keep answering from a deleted file
            self._local.conn = None
            return f"database unavailable: {self.path.name} is missing"
        try:
            self._conn().execute("SELECT count(*) FROM productos").fetchone()
        except sqlite3.Error as exc:
            self._local.conn = None
            return f"database unavailable: {exc}"
        return None

    def products(self, *, limit: int = 100, offset: int = 0, categoria: str | None = None) -> tuple[list[dict[str, Any]], int]:
        where, args = ("WHERE categoria = ?", [categoria]) if categoria else ("", [])
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) FROM productos {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {', '.join(PRODUCT_FIELDS)} FROM productos {where} ORDER BY id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [dict(row) for row in rows], int(total)

    def product(self, producto_id: int) -> dict[str, Any]:
        return self._one("id = ?", producto_id)

    def product_by_code(self, codigo: str) -> dict[str, Any]:
        return self._one("codigo = ?", codigo)

    def _one(self, where: str, value: object) -> dict[str, Any]:
        row = self._conn().execute(
            f"SELECT {', '.join(PRODUCT_FIELDS)} FROM productos WHERE {where}", (value,)
        ).fetchone()
        if row is None:
            raise ProductNotFound(f"producto {value} no encontrado")
        return dict(row)

    def critical(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            f"SELECT {', '.join(PRODUCT_FIELDS)} FROM productos WHERE stock_actual <= stock_minimo ORDER BY id"
        ).fetchall()
        return [dict(row) for row in rows]

    def apply_movement(
        self,
        producto_id: int,
        tipo: Literal["entrada", "salida"],
        cantidad: int,
        idempotency_key: str | None = None,
        *,
        corruption: Literal["lose", "double"] | None = None,
    ) -> dict[str, Any]:
        """Apply one movement exactly once and return ``movimiento_id``, ``stock_anterior``, ``stock_nuevo``."""
        with self._write() as conn:
            if idempotency_key is not None:
                seen = conn.execute(
                    "SELECT id, producto_id, stock_anterior, stock_nuevo FROM movimientos WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
                if seen is not None:
                    return _movement(seen)
            row = conn.execute("SELECT stock_actual FROM productos WHERE id = ?", (producto_id,)).fetchone()
            if row is None:
                raise ProductNotFound(f"producto {producto_id} no encontrado")
            before = int(row[0])
            delta = cantidad if tipo == "entrada" else -cantidad
            if before + delta < 0:
                raise InsufficientStock(before, cantidad)
            applied = {None: delta, "lose": 0, "double": 2 * delta}[corruption]
            conn.execute(
                "UPDATE productos SET stock_actual = ? WHERE id = ?", (max(before + applied, 0), producto_id)
            )
            cursor = conn.execute(
                "INSERT INTO movimientos (producto_id, tipo, cantidad, stock_anterior, stock_nuevo, idempotency_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (producto_id, tipo, cantidad, before, before + delta, idempotency_key, time.time()),
            )
            return {"movimiento_id": cursor.lastrowid, "producto_id": producto_id,
                    "stock_anterior": before, "stock_nuevo": before + delta}

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        """Read-only reporting queries (the dashboard's summaries)."""
        return [dict(row) for row in self._conn().execute(sql, args).fetchall()]


def _movement(row: sqlite3.Row) -> dict[str, Any]:
    return {"movimiento_id": row["id"], "producto_id": row["producto_id"],
            "stock_anterior": row["stock_anterior"], "stock_nuevo": row["stock_nuevo"]}
