"""The dashboard's own SQLite database, as ``MiniMarketDatabaseManager`` keeps it (docs/as-built.md §2.4).

The real dashboard never calls the agents: it reads ``agente_negocio/minimarket_inventory.db``
(suppliers, orders, order lines, stock movements, invoices) with synchronous ``sqlite3`` calls
made on the event loop, each connection with ``PRAGMA busy_timeout=5000``. A locked or missing
database therefore stalls or fails every request, and the routes turn failures into ``error``
fields of 200 answers. The model seeds a deterministic four months of history from the stack's products.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from generators.catalogue import Product
from reference_stack._ledger import DEFAULT_PROVIDER, PROVIDERS_BY_CATEGORY

DB_NAME = "minimarket_inventory.db"
BUSY_TIMEOUT_MS = 5000
HISTORY_DAYS = 120
SEED = 10
Row = dict[str, Any]

_SCHEMA = """
CREATE TABLE proveedores (id INTEGER PRIMARY KEY, nombre TEXT NOT NULL UNIQUE, cuit TEXT NOT NULL);
CREATE TABLE pedidos (id INTEGER PRIMARY KEY, proveedor_id INTEGER NOT NULL REFERENCES proveedores(id),
                      fecha TEXT NOT NULL, estado TEXT NOT NULL);
CREATE TABLE detalle_pedidos (id INTEGER PRIMARY KEY, pedido_id INTEGER NOT NULL REFERENCES pedidos(id),
                              producto_codigo TEXT NOT NULL, producto_nombre TEXT NOT NULL,
                              cantidad INTEGER NOT NULL, precio_unitario REAL NOT NULL);
CREATE TABLE movimientos_stock (id INTEGER PRIMARY KEY, producto_codigo TEXT NOT NULL, tipo TEXT NOT NULL,
                                cantidad INTEGER NOT NULL, fecha TEXT NOT NULL);
CREATE TABLE facturas (id INTEGER PRIMARY KEY, proveedor_id INTEGER NOT NULL, fecha TEXT NOT NULL,
                       total REAL NOT NULL, procesada INTEGER NOT NULL);
"""


def _seed(conn: sqlite3.Connection, products: Sequence[Product]) -> None:
    rng = random.Random(SEED)
    names = sorted({*PROVIDERS_BY_CATEGORY.values(), DEFAULT_PROVIDER})
    conn.executemany("INSERT INTO proveedores VALUES (?, ?, ?)",
                     [(i, name, f"30-{70000000 + i * 1111:08d}-{i % 10}") for i, name in enumerate(names, 1)])
    by_provider = {name: [p for p in products if PROVIDERS_BY_CATEGORY.get(p.categoria, DEFAULT_PROVIDER) == name]
                   for name in names}
    today = datetime.now(UTC).date()
    order_id = 0
    for back in range(HISTORY_DAYS, -1, -1):
        day = (today - timedelta(days=back)).isoformat()
        for provider_id, name in enumerate(names, 1):
            products = by_provider[name]
            if products and rng.random() < 0.35:
                order_id += 1
                conn.execute("INSERT INTO pedidos VALUES (?, ?, ?, ?)", (order_id, provider_id, day, "recibido"))
                for product in rng.sample(products, k=min(len(products), rng.randint(1, 4))):
                    quantity = rng.randint(6, 48)
                    conn.execute("INSERT INTO detalle_pedidos (pedido_id, producto_codigo, producto_nombre, cantidad,"
                                 " precio_unitario) VALUES (?, ?, ?, ?, ?)",
                                 (order_id, product.codigo, product.nombre, quantity, product.precio_compra))
                    conn.execute("INSERT INTO movimientos_stock (producto_codigo, tipo, cantidad, fecha)"
                                 " VALUES (?, 'entrada', ?, ?)", (product.codigo, quantity, day))
                conn.execute("INSERT INTO facturas (proveedor_id, fecha, total, procesada) VALUES (?, ?, ?, ?)",
                             (provider_id, day, round(rng.uniform(20000, 400000), 2), int(rng.random() < 0.8)))
        for product in rng.sample(products, k=min(6, len(products))):
            conn.execute("INSERT INTO movimientos_stock (producto_codigo, tipo, cantidad, fecha)"
                         " VALUES (?, 'salida', ?, ?)", (product.codigo, rng.randint(1, 12), day))


def ensure_database(path: Path, products: Sequence[Product]) -> None:
    """Create and seed the database from ``products`` unless it exists (the real file is not in git either)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA)
        _seed(conn, products)
    conn.close()


class DashboardDatabase:
    """Opens a connection per query, as the real manager does. ``broken()`` true: the file cannot be opened."""

    def __init__(self, path: Path, broken: Callable[[], bool]) -> None:
        self.path = path
        self.broken = broken

    def rows(self, sql: str, args: tuple[object, ...] = ()) -> list[Row]:
        target = self.path.with_name("missing") / self.path.name if self.broken() else self.path
        conn = sqlite3.connect(f"file:{target}?mode=rw", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            return [dict(row) for row in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def ping(self) -> bool:
        try:
            self.rows("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def summary(self) -> Row:
        totals = self.rows("""
            SELECT (SELECT count(*) FROM proveedores) AS total_proveedores,
                   (SELECT count(*) FROM pedidos) AS total_pedidos,
                   (SELECT coalesce(sum(cantidad), 0) FROM detalle_pedidos) AS total_productos_pedidos,
                   (SELECT count(*) FROM movimientos_stock) AS total_movimientos,
                   (SELECT count(*) FROM facturas WHERE procesada = 1) AS facturas_procesadas,
                   (SELECT count(*) FROM pedidos WHERE fecha >= date('now', 'start of month')) AS pedidos_mes,
                   (SELECT count(*) FROM movimientos_stock WHERE fecha >= date('now', '-7 days')) AS movimientos_semana
        """)[0]
        top = self.rows("SELECT pr.nombre, count(*) AS pedidos FROM pedidos p JOIN proveedores pr ON pr.id = p.proveedor_id"
                        " GROUP BY pr.id ORDER BY pedidos DESC, pr.nombre LIMIT 1")
        return {**totals, "proveedor_top": top[0] if top else {"nombre": None, "pedidos": 0}}

    def providers(self) -> list[Row]:
        return self.rows("""
            SELECT pr.id, pr.nombre, pr.cuit, count(DISTINCT p.id) AS total_pedidos,
                   coalesce(sum(d.cantidad), 0) AS total_productos, max(p.fecha) AS ultimo_pedido
            FROM proveedores pr LEFT JOIN pedidos p ON p.proveedor_id = pr.id
            LEFT JOIN detalle_pedidos d ON d.pedido_id = p.id GROUP BY pr.id ORDER BY total_pedidos DESC, pr.nombre
        """)

    def stock_timeline(self, days: int) -> list[Row]:
        return self.rows("""
            SELECT fecha, coalesce(sum(CASE WHEN tipo = 'entrada' THEN cantidad END), 0) AS entradas,
                   coalesce(sum(CASE WHEN tipo = 'salida' THEN cantidad END), 0) AS salidas
            FROM movimientos_stock WHERE fecha >= date('now', ?) GROUP BY fecha ORDER BY fecha
        """, (f"-{days} days",))

    def _filtered(self, select: str, group: str, start: str | None, end: str | None, proveedor: str | None,
                  tail: str = "", extra: tuple[object, ...] = ()) -> list[Row]:
        clauses, args = [], []
        for clause, value in (("p.fecha >= ?", start), ("p.fecha <= ?", end), ("pr.nombre LIKE ?", proveedor)):
            if value:
                clauses.append(clause)
                args.append(f"%{value}%" if "LIKE" in clause else value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.rows(f"{select} FROM detalle_pedidos d JOIN pedidos p ON p.id = d.pedido_id "
                         f"JOIN proveedores pr ON pr.id = p.proveedor_id {where} GROUP BY {group} {tail}",
                         (*args, *extra))

    def top_products(self, limit: int, start: str | None, end: str | None, proveedor: str | None) -> list[Row]:
        return self._filtered("SELECT d.producto_codigo AS codigo, d.producto_nombre AS producto, "
                              "sum(d.cantidad) AS cantidad_total, count(DISTINCT p.id) AS pedidos",
                              "d.producto_codigo", start, end, proveedor,
                              "ORDER BY cantidad_total DESC, codigo LIMIT ?", (limit,))

    def trends(self, months: int, start: str | None, end: str | None, proveedor: str | None) -> Row:
        rows = self._filtered("SELECT strftime('%Y-%m', p.fecha) AS mes, count(DISTINCT p.id) AS pedidos, "
                              "sum(d.cantidad) AS productos", "mes", start, end, proveedor,
                              "ORDER BY mes DESC LIMIT ?", (months,))
        rows.reverse()
        return {"meses": [r["mes"] for r in rows], "pedidos": [r["pedidos"] for r in rows],
                "productos": [r["productos"] for r in rows]}

    def stock_by_provider(self, limit: int) -> list[Row]:
        return self._filtered("SELECT pr.nombre AS proveedor, count(DISTINCT d.producto_codigo) AS productos, "
                              "sum(d.cantidad) AS cantidad_total", "pr.id", None, None, None,
                              "ORDER BY cantidad_total DESC LIMIT ?", (limit,))

    def weekly_sales(self, weeks: int) -> list[Row]:
        rows = self.rows("""
            SELECT strftime('%Y-%W', fecha) AS semana, sum(cantidad) AS unidades, count(*) AS movimientos
            FROM movimientos_stock WHERE tipo = 'salida' GROUP BY semana ORDER BY semana DESC LIMIT ?
        """, (weeks,))
        rows.reverse()
        return rows
