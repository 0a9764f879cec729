"""The product catalogue shared by the invoice generator and the reference stack's seed data.

A minimarket's shelf: invoices draw their items from it and the reference stack's deposito
seeds its SQLite ledger with it, so an invoice's items are products the stack knows.
Prices are ARS; ``stock_minimo`` drives ``/stock/critical``.
"""

from __future__ import annotations

from typing import NamedTuple


class Product(NamedTuple):
    id: int
    codigo: str
    nombre: str
    categoria: str
    precio_compra: float
    precio_venta: float
    stock_actual: int
    stock_minimo: int
    iva_rate: float  # 0.21 general, 0.105 for basic foods


_ROWS: tuple[tuple[str, str, str, float, int, int, float], ...] = (
    # codigo, nombre, categoria, precio_compra, stock_actual, stock_minimo, iva
    ("7790070012345", "Yerba mate Playadito 1 kg", "Almacén", 3150.0, 120, 20, 0.105),
    ("7790387000123", "Azúcar Ledesma 1 kg", "Almacén", 980.0, 200, 40, 0.105),
    ("7790580220152", "Harina 0000 Blancaflor 1 kg", "Almacén", 890.0, 150, 30, 0.105),
    ("7791234000017", "Fideos spaghetti Matarazzo 500 g", "Almacén", 1150.0, 180, 30, 0.105),
    ("7790070318329", "Arroz largo fino Gallo 1 kg", "Almacén", 1420.0, 140, 25, 0.105),
    ("7790272001012", "Aceite girasol Natura 1.5 L", "Almacén", 2650.0, 90, 20, 0.105),
    ("7790150005004", "Dulce de leche La Serenísima 400 g", "Lácteos", 1890.0, 80, 15, 0.105),
    ("7790742333308", "Leche entera La Serenísima 1 L", "Lácteos", 1080.0, 240, 60, 0.105),
    ("7791337001234", "Queso cremoso Sancor 1 kg", "Lácteos", 7400.0, 30, 8, 0.105),
    ("7790080004564", "Yogur bebible Ser 1 L", "Lácteos", 1650.0, 60, 15, 0.105),
    ("7790040133297", "Galletitas Criollitas 300 g", "Almacén", 1120.0, 110, 20, 0.21),
    ("7790580660007", "Alfajor Havanna chocolate", "Golosinas", 1350.0, 75, 25, 0.21),
    ("7790040873902", "Alfajor Jorgito dulce de leche", "Golosinas", 540.0, 160, 40, 0.21),
    ("7790895000782", "Gaseosa Coca-Cola 2.25 L", "Bebidas", 2750.0, 130, 30, 0.21),
    ("7790895067563", "Agua mineral Villavicencio 2 L", "Bebidas", 1190.0, 140, 30, 0.21),
    ("7792798000019", "Cerveza Quilmes lata 473 ml", "Bebidas", 1290.0, 220, 48, 0.21),
    ("7790240032004", "Vino Malbec Alamos 750 ml", "Bebidas", 6900.0, 45, 12, 0.21),
    ("7791290010101", "Fernet Branca 750 ml", "Bebidas", 11500.0, 35, 10, 0.21),
    ("7793100111112", "Mate cocido Taragüí x 25", "Almacén", 1290.0, 70, 15, 0.105),
    ("7790387010013", "Café molido La Virginia 250 g", "Almacén", 3890.0, 50, 12, 0.21),
    ("7790070411112", "Pan lactal Bimbo 610 g", "Panadería", 2290.0, 40, 15, 0.105),
    ("7790060023305", "Tapa de empanada La Salteña x 12", "Frescos", 1590.0, 55, 20, 0.105),
    ("7790360012004", "Salchichas Paty x 6", "Frescos", 2190.0, 40, 12, 0.105),
    ("7791234567890", "Jamón cocido Paladini 200 g", "Fiambres", 3350.0, 25, 8, 0.105),
    ("7790480001122", "Papel higiénico Higienol x 4", "Limpieza", 2450.0, 95, 20, 0.21),
    ("7791290786501", "Lavandina Ayudín 1 L", "Limpieza", 990.0, 85, 20, 0.21),
    ("7791290012345", "Detergente Magistral 500 ml", "Limpieza", 2190.0, 70, 15, 0.21),
    ("7790520013801", "Jabón en polvo Ariel 800 g", "Limpieza", 4890.0, 40, 10, 0.21),
    ("7791293000111", "Shampoo Sedal 340 ml", "Perfumería", 3190.0, 35, 10, 0.21),
    ("7790010001230", "Pasta dental Colgate 90 g", "Perfumería", 1890.0, 60, 15, 0.21),
    ("7790580110019", "Puré de tomate Arcor 520 g", "Almacén", 690.0, 5, 20, 0.105),
    ("7790580400011", "Arvejas Arcor 350 g", "Almacén", 720.0, 8, 20, 0.105),
    ("7790070555012", "Sal fina Celusal 500 g", "Almacén", 650.0, 100, 20, 0.105),
    ("7790400012201", "Mayonesa Hellmann's 475 g", "Almacén", 2390.0, 3, 15, 0.21),
    ("7790580520016", "Caramelos Sugus x 150 g", "Golosinas", 1290.0, 65, 20, 0.21),
    ("7790310000018", "Chocolate Águila 100 g", "Golosinas", 2390.0, 45, 12, 0.21),
    ("7790330000022", "Huevos blancos x 12", "Frescos", 2890.0, 48, 12, 0.105),
    ("7790088000033", "Manteca La Serenísima 200 g", "Lácteos", 2390.0, 38, 10, 0.105),
    ("7790950000044", "Papas fritas Lays 145 g", "Snacks", 2150.0, 70, 20, 0.21),
    ("7790120000055", "Maní salado Pehuamar 120 g", "Snacks", 1390.0, 6, 15, 0.21),
)

MARKUP = 1.35

CATALOGUE: tuple[Product, ...] = tuple(
    Product(
        id=index,
        codigo=codigo,
        nombre=nombre,
        categoria=categoria,
        precio_compra=precio,
        precio_venta=round(precio * MARKUP, 2),
        stock_actual=stock,
        stock_minimo=minimo,
        iva_rate=iva,
    )
    for index, (codigo, nombre, categoria, precio, stock, minimo, iva) in enumerate(_ROWS, start=1)
)
"""Products with ids 1..N; a few start at or below ``stock_minimo`` so ``/stock/critical`` has rows."""
