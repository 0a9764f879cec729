"""deposito's product table as the real code exposes it: the shared ledger plus the as-built columns.

The reference stack's ``Ledger`` already applies stock movements exactly once with idempotency
keys; the real ``ProductoResponse`` also carries ``descripcion``, ``stock_maximo``, supplier
fields, ``activo`` and timestamps (docs/as-built.md §2.1), and the real service can create and update
products. Those columns are added to the same SQLite table when the as-built deposito starts.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from reference_stack._ledger import Ledger, ProductNotFound

_EXTRA_COLUMNS = {
    "descripcion": "TEXT",
    "stock_maximo": "INTEGER",
    "proveedor_cuit": "TEXT",
    "activo": "INTEGER NOT NULL DEFAULT 1",
    "created_at": "REAL",
    "updated_at": "REAL",
}
_RESPONSE_FIELDS = (
    "id", "codigo", "nombre", "descripcion", "categoria", "precio_compra", "precio_venta", "stock_actual",
    "stock_minimo", "stock_maximo", "proveedor_cuit", "proveedor", "activo", "created_at", "updated_at",
)


class DuplicateCode(Exception):
    """A product with that ``codigo`` exists already."""


def _response(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    """A row as ``ProductoResponse``: ``proveedor_nombre``, boolean ``activo``, ISO timestamps."""
    data = dict(row)
    data["proveedor_nombre"] = data.pop("proveedor")
    data["activo"] = bool(data["activo"])
    for stamp in ("created_at", "updated_at"):
        data[stamp] = datetime.fromtimestamp(data[stamp] or 0, UTC).isoformat()
    return data


class ProductTable(Ledger):
    """The ledger with the real code's product columns, creation and update."""

    def add_real_columns(self) -> None:
        """Idempotent: add the as-built columns the intended schema lacks, stamping existing rows."""
        with self._write() as conn:
            present = {row[1] for row in conn.execute("PRAGMA table_info(productos)")}
            for name, kind in _EXTRA_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE productos ADD COLUMN {name} {kind}")
            conn.execute("UPDATE productos SET created_at = ?, updated_at = ? WHERE created_at IS NULL",
                         (time.time(), time.time()))

    def list_products(
        self, *, categoria: str | None, activos_solo: bool, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        clauses, args = [], []
        if categoria:
            clauses.append("categoria = ?")
            args.append(categoria)
        if activos_solo:
            clauses.append("activo = 1")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) FROM productos {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {', '.join(_RESPONSE_FIELDS)} FROM productos {where} ORDER BY id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [_response(row) for row in rows], int(total)

    def get_product(self, producto_id: int) -> dict[str, Any]:
        row = self._conn().execute(
            f"SELECT {', '.join(_RESPONSE_FIELDS)} FROM productos WHERE id = ?", (producto_id,)
        ).fetchone()
        if row is None:
            raise ProductNotFound(f"Producto {producto_id} no encontrado")
        return _response(row)

    def create_product(self, fields: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        values = dict(fields)
        values.update(proveedor=values.pop("proveedor_nombre", None) or "", activo=1, created_at=now, updated_at=now)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM productos WHERE codigo = ?", (values["codigo"],)).fetchone():
                raise DuplicateCode(f"Ya existe un producto con código {values['codigo']}")
            cursor = conn.execute(
                f"INSERT INTO productos ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                list(values.values()),
            )
            new_id = int(cursor.lastrowid or 0)
        return self.get_product(new_id)

    def update_product(self, producto_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        values = dict(fields)
        if "proveedor_nombre" in values:
            values["proveedor"] = values.pop("proveedor_nombre")
        if "activo" in values:
            values["activo"] = int(values["activo"])
        values["updated_at"] = time.time()
        with self._write() as conn:
            assignments = ", ".join(f"{name} = ?" for name in values)
            cursor = conn.execute(f"UPDATE productos SET {assignments} WHERE id = ?", [*values.values(), producto_id])
            if cursor.rowcount == 0:
                raise ProductNotFound(f"Producto {producto_id} no encontrado")
        return self.get_product(producto_id)

    def critical_products(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT id, codigo, nombre, categoria, stock_actual, stock_minimo FROM productos "
            "WHERE activo = 1 AND stock_actual <= stock_minimo ORDER BY stock_actual - stock_minimo, id"
        ).fetchall()
        return [{"producto_id": row["id"], "codigo": row["codigo"], "nombre": row["nombre"],
                 "categoria": row["categoria"], "stock_actual": row["stock_actual"],
                 "stock_minimo": row["stock_minimo"], "deficit": row["stock_minimo"] - row["stock_actual"]}
                for row in rows]
