"""Sample exports of the marketplaces beyond Tmall and Shopify (the Chinese ones are in
gen_china.py): Amazon Seller Central, eBay Seller Hub and WooCommerce. Called by make_samples.py.

Each file reproduces its platform's export layout as public documentation and examples show
it (column names and order, encoding, date and money formats, rows around the table,
multi-line orders) and holds a few bad rows of varied kinds, marked below.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _csv(rows: list[list[str]], delimiter: str = ",", terminator: str = "\r\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerows(rows)
    return out.getvalue()


def _target(channel: str, name: str) -> Path:
    target = ROOT / channel / name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _rows(header: list[str], records: list[dict[str, str]]) -> list[list[str]]:
    unknown = {k for r in records for k in r} - set(header)
    assert not unknown, unknown
    return [[r.get(h, "") for h in header] for r in records]


def _is_amount(*values: str) -> bool:
    return all(v.replace(".", "", 1).isdigit() for v in values)


def _cents(qty: str, price: str) -> int:
    whole, _, frac = price.partition(".")
    return int(qty) * (int(whole) * 100 + int((frac + "00")[:2]))


def _money_add(a: str, b: str) -> str:
    cents = _cents("1", a) + _cents("1", b)
    return f"{cents // 100}.{cents % 100:02d}"


def _money_sub(a: str, *bs: str) -> str:
    cents = _cents("1", a) - sum(_cents("1", b) for b in bs)
    return f"{cents // 100}.{cents % 100:02d}"


# Amazon Seller Central "All Orders" report (flat file): TAB-separated UTF-8, one row per
# item, several rows per order; ISO 8601 times with an offset; item-price and shipping-price
# are for the row's whole quantity; cancelled and pending items carry no price.

AMAZON_HEADER = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
    "order-status", "fulfillment-channel", "sales-channel", "order-channel", "url",
    "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity", "currency",
    "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price",
    "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation", "buyer-email", "buyer-name",
]


def amazon(order: str, purchased: str, status: str, product: str, sku: str, asin: str,
           qty: str, price: str, shipping: str, ship: tuple[str, str, str, str],
           item_off: str = "0.00", ship_off: str = "0.00", promo: str = "",
           currency: str = "USD", channel: str = "Amazon.com", item_status: str = "",
           buyer: tuple[str, str] = ("", "")) -> dict[str, str]:
    city, state, postcode, country = ship
    return {
        "amazon-order-id": order, "merchant-order-id": "", "purchase-date": purchased,
        "last-updated-date": purchased, "order-status": status, "fulfillment-channel":
        "Merchant", "sales-channel": channel, "ship-service-level": "Standard",
        "product-name": product, "sku": sku, "asin": asin,
        "item-status": item_status or status, "quantity": qty, "currency": currency,
        "item-price": price, "item-tax": "", "shipping-price": shipping, "shipping-tax": "",
        "item-promotion-discount": item_off, "ship-promotion-discount": ship_off,
        "ship-city": city, "ship-state": state, "ship-postal-code": postcode,
        "ship-country": country, "promotion-ids": promo, "is-business-order": "false",
        "buyer-email": buyer[0], "buyer-name": buyer[1],
    }


def write_amazon() -> None:
    seattle = ("SEATTLE", "WA", "98109-5210", "US")
    austin = ("Austin", "TX", "78701", "US")
    toronto = ("Toronto", "ON", "M5H 3T4", "CA")
    alice = ("kx8q2m7v3b5n1c@marketplace.amazon.com", "Alice Walker")
    free_ship = "US Core Free Shipping Promotion A2B3C4D5E6F7G8"
    records = [
        amazon("114-3941689-8772232", "2024-11-05T06:22:31-08:00", "Shipped",
               "Hill & Leaf Dragon Well Green Tea, 100g", "DW-100", "B0C1TEA001", "2",
               "37.00", "4.99", seattle, item_off="3.70", ship_off="4.99",
               promo=f"{free_ship},TENOFF-DW", buyer=alice),
        amazon("114-3941689-8772232", "2024-11-05T06:22:31-08:00", "Shipped",
               "Hill & Leaf Ceramic Gaiwan, White", "GW-WHT", "B0C1TEA002", "1", "32.00",
               "0.00", seattle, promo=free_ship, buyer=alice),
        amazon("113-5550123-4401123", "2024-11-06T17:05:00+00:00", "Unshipped",
               "Hill & Leaf Oolong Sampler", "OOL-SMP", "B0C1TEA003", "1", "45.00", "5.99",
               austin, buyer=("p3z8w1r6t2y9u4@marketplace.amazon.com", "Dan Ortiz")),
        amazon("111-2223334-4445556", "2024-11-07T09:45:12-05:00", "Shipped",
               "Hill & Leaf Jasmine Pearls, 50g", "JP-050", "B0C1TEA004", "3", "42.00", "3.99",
               austin),
        amazon("111-2223334-4445556", "2024-11-07T09:45:12-05:00", "Shipped",
               "Hill & Leaf Bamboo Tea Tray", "TRAY-BMB", "B0C1TEA005", "1", "49.99", "3.99",
               austin, item_off="5.00", promo="BAMBOO5"),
        amazon("111-2223334-4445556", "2024-11-07T09:45:12-05:00", "Shipped",
               "Hill & Leaf Tea Towel", "TOWEL-01", "B0C1TEA006", "2", "15.00", "0.00", austin),
        amazon("702-1234567-7654321", "2024-11-08T12:00:00-05:00", "Shipped",
               "Hill & Leaf Pu-erh Cake 357g", "PE-357", "B0C1TEA007", "1", "78.00", "9.99",
               toronto, currency="CAD", channel="Amazon.ca"),
        amazon("114-9998887-7776665", "2024-11-09T10:00:00-08:00", "Pending",
               "Hill & Leaf Matcha Whisk", "MW-01", "B0C1TEA008", "1", "", "", seattle),
        amazon("114-1112223-3334445", "2024-11-09T11:00:00-08:00", "Cancelled",
               "Hill & Leaf Matcha Whisk", "MW-01", "B0C1TEA008", "0", "", "", seattle),
        # Bad rows, one kind each:
        amazon("114-5556667-7778889", "2024-11-31T10:00:00-08:00", "Shipped",
               "Hill & Leaf Oolong Sampler", "OOL-SMP", "B0C1TEA003", "1", "45.00", "0.00",
               seattle),  # 31 November
        amazon("114-6667778-8889990", "2024-11-10T10:00:00-08:00", "Shipped",
               "Hill & Leaf Tea Towel", "TOWEL-01", "B0C1TEA006", "1", "7.5O", "0.00",
               seattle),  # letter O in the price
        amazon("114-7778889-9990001", "2024-11-10T11:00:00-08:00", "Shipped",
               "Hill & Leaf Dragon Well Green Tea, 100g", "DW-100", "B0C1TEA001", "1", "18.50",
               "4.99", ("Springfield", "", "00000", "ZZ")),  # no such country
        amazon("114-8889990-0001112", "2024-11-10T12:00:00-08:00", "Shipped",
               "Hill & Leaf Ceramic Gaiwan, White", "GW-WHT", "B0C1TEA002", "1", "32.00",
               "0.00", austin, buyer=("not-an-address", "Eve Adams")),  # bad e-mail
    ]
    text = _csv([AMAZON_HEADER, *_rows(AMAZON_HEADER, records)], delimiter="\t",
                terminator="\n")
    _target("amazon", "All_Orders_20241112.txt").write_text(text, encoding="utf-8")


# eBay Seller Hub orders report ("Download report" of the Orders page, the File Exchange
# sales history's successor): CSV with a blank line above the header and one under it, a
# "N record(s) downloaded" line and "Seller ID : ..." below the table. A multi-item order is
# one summary row (buyer, address, shipping, total; no item) followed by one row per item.
# Dates as Mon-DD-YY, money with its currency sign.

EBAY_HEADER = [
    "Sales Record Number", "Order Number", "Buyer Username", "Buyer Name", "Buyer Email",
    "Buyer Note", "Buyer Address 1", "Buyer Address 2", "Buyer City", "Buyer State",
    "Buyer Zip", "Buyer Country", "Ship To Name", "Ship To Phone", "Ship To Address 1",
    "Ship To Address 2", "Ship To City", "Ship To State", "Ship To Zip", "Ship To Country",
    "Item Number", "Item Title", "Custom Label", "Sold Via Promoted Listings", "Quantity",
    "Sold For", "Shipping And Handling", "Seller Collected Tax", "eBay Collected Tax",
    "Total Price", "Payment Method", "Sale Date", "Paid On Date", "Ship By Date",
    "Shipped On Date", "Feedback Left", "Feedback Received", "My Item Note",
    "Shipping Service", "Tracking Number", "Transaction ID", "Variation Details",
    "Global Shipping Program", "Click And Collect", "eBay Plus",
]


def ebay_order(record: int, order: str, user: str, name: str, email: str,
               ship: tuple[str, str, str, str, str, str, str], sold: str, paid: str,
               shipped: str, shipping: str,
               items: list[tuple[str, str, str, str, str, str]],
               note: str = "") -> list[dict[str, str]]:
    """ship: (phone, address 1, address 2, city, state, zip, country);
    items: (Item Number, Item Title, Custom Label, Quantity, Sold For, Variation Details)."""
    phone, line1, line2, city, state, zipcode, country = ship
    order_cells = {
        "Order Number": order, "Buyer Username": user, "Buyer Name": name,
        "Buyer Email": email, "Buyer Note": note, "Buyer Address 1": line1,
        "Buyer Address 2": line2, "Buyer City": city, "Buyer State": state,
        "Buyer Zip": zipcode, "Buyer Country": country, "Ship To Name": name,
        "Ship To Phone": phone, "Ship To Address 1": line1, "Ship To Address 2": line2,
        "Ship To City": city, "Ship To State": state, "Ship To Zip": zipcode,
        "Ship To Country": country, "Shipping And Handling": shipping,
        "Payment Method": "Managed payments", "Sale Date": sold, "Paid On Date": paid,
        "Shipped On Date": shipped, "Shipping Service": "USPS Ground Advantage",
        "Global Shipping Program": "No", "Click And Collect": "No", "eBay Plus": "No",
    }

    def item_cells(item: tuple[str, str, str, str, str, str], n: int) -> dict[str, str]:
        number, title, label, qty, price, variation = item
        return {"Item Number": number, "Item Title": title, "Custom Label": label,
                "Sold Via Promoted Listings": "No", "Quantity": qty, "Sold For": price,
                "Transaction ID": f"{2100000000000 + record * 10 + n}",
                "Variation Details": variation}

    if len(items) == 1:
        return [{"Sales Record Number": str(record), **order_cells,
                 **item_cells(items[0], 0)}]
    summary = {"Sales Record Number": str(record), **order_cells}
    lines = [{"Sales Record Number": str(record + n), "Order Number": order,
              "Buyer Username": user, **item_cells(item, n)}
             for n, item in enumerate(items, start=1)]
    return [summary, *lines]


def write_ebay() -> None:
    sf = ("(415) 555-0132", "500 Howard St", "Apt 12", "San Francisco", "CA", "94105",
          "United States")
    ny = ("+1 212 555 0199", "350 5th Ave", "", "New York", "NY", "10118", "United States")
    leeds = ("07700 900123", "12 Park Row", "", "Leeds", "West Yorkshire", "LS1 5HD",
             "United Kingdom")
    berlin = ("030 12345678", "Unter den Linden 5", "", "Berlin", "", "10117", "Germany")
    toronto = ("416-555-0175", "200 King St W", "", "Toronto", "ON", "M5H 3T4", "Canada")
    whisk = ("186512345601", "Hill & Leaf Bamboo Matcha Whisk 100 prong", "MW-01", "1",
             "$22.00", "")
    records: list[dict[str, str]] = []
    records += ebay_order(1001, "12-11501-22301", "tea_fan_sf", "Alice Walker",
                          "alice@example.com", sf, "Nov-05-24", "Nov-05-24", "Nov-06-24",
                          "$5.00",
                          [("186512345602", "Hill & Leaf Dragon Well Green Tea 100g",
                            "DW-100", "2", "$18.50", ""),
                           ("186512345603", "Hill & Leaf Ceramic Gaiwan 150ml",
                            "GW-WHT", "1", "$32.00", "Color:White")],
                          note="Gift - please no invoice in the box")
    records += ebay_order(1004, "04-11502-22302", "nyc_leaf", "Bob Chen", "bob@example.com",
                          ny, "Nov-06-24", "Nov-06-24", "", "$0.00", [whisk])
    records += ebay_order(1005, "19-11503-22303", "leeds_brew", "Chloe Evans",
                          "chloe@example.co.uk", leeds, "Nov-06-24", "", "", "$12.00",
                          [("186512345604", "Hill & Leaf Pu-erh Cake 357g", "PE-357", "1",
                            "$58.00", "")])
    records += ebay_order(1006, "21-11504-22304", "berlin_tee", "Jonas Weber",
                          "jonas@example.de", berlin, "Nov-07-24", "Nov-07-24", "Nov-08-24",
                          "$15.00",
                          [("186512345605", "Hill & Leaf Jasmine Pearls 50g", "JP-050", "3",
                            "$14.00", ""),
                           ("186512345606", "Hill & Leaf Tea Towel", "TOWEL-01", "2",
                            "$7.50", "Color:Grey"),
                           whisk])
    records += ebay_order(1010, "08-11505-22305", "tor_tea", "Dana Roy", "dana@example.ca",
                          toronto, "Nov-08-24", "Nov-08-24", "", "$9.00",
                          [("186512345607", "Hill & Leaf Oolong Sampler", "OOL-SMP", "1",
                            "$45.00", "")])
    # Bad rows, one kind each:
    records += ebay_order(1011, "08-11506-22306", "bad_date", "Eve Adams", "eve@example.com",
                          sf, "Nov-31-24", "Nov-31-24", "", "$5.00", [whisk])  # 31 November
    records += ebay_order(1012, "08-11507-22307", "bad_price", "Frank Li", "frank@example.com",
                          ny, "Nov-09-24", "Nov-09-24", "", "$5.00",
                          [("186512345606", "Hill & Leaf Tea Towel", "TOWEL-01", "1",
                            "$7.5O", "")])  # letter O in the price
    records += ebay_order(1013, "08-11508-22308", "bad_phone", "Gina Moss", "gina@example.com",
                          ("555-01", *sf[1:]), "Nov-09-24", "Nov-09-24", "", "$5.00",
                          [whisk])  # too short for a phone number
    records += ebay_order(1014, "08-11509-22309", "atlantis", "Hank Hill", "hank@example.com",
                          (*ny[:6], "Atlantis"), "Nov-09-24", "Nov-09-24", "", "$5.00",
                          [whisk])  # no such country
    body = _rows(EBAY_HEADER, records)
    blank = [""]
    lines = [blank, EBAY_HEADER, blank, *body, blank,
             [f"{len(body)} record(s) downloaded", "from Nov-01-24 to Nov-12-24"], blank,
             ["Seller ID : hillandleaf_tea"]]
    _target("ebay", "eBay-OrdersReport-Nov-12-2024-10_32_15-0700-1234567890.csv").write_text(
        _csv(lines, terminator="\r\n"), encoding="utf-8")


# WooCommerce Customer / Order CSV Export, "Default - one row per item": UTF-8 CSV, the
# order's columns repeated on every item row; times in the shop's zone; item_subtotal is
# before the coupon, item_total after it (coupons are spread over the items);
# order_discount is the legacy order-level discount (after tax), outside the items.

WOO_HEADER = [
    "order_id", "order_number", "order_date", "status", "shipping_total", "shipping_tax_total",
    "fee_total", "fee_tax_total", "tax_total", "cart_discount", "order_discount",
    "discount_total", "order_total", "refunded_total", "order_currency", "payment_method",
    "shipping_method", "customer_id", "billing_first_name", "billing_last_name",
    "billing_company", "billing_email", "billing_phone", "billing_address_1",
    "billing_address_2", "billing_postcode", "billing_city", "billing_state",
    "billing_country", "shipping_first_name", "shipping_last_name", "shipping_company",
    "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
    "shipping_state", "shipping_country", "customer_note", "item_id", "item_product_id",
    "item_name", "item_sku", "item_quantity", "item_subtotal", "item_subtotal_tax",
    "item_total", "item_total_tax", "item_refunded", "item_refunded_qty", "item_meta",
    "shipping_items", "fee_items", "tax_items", "coupon_items", "order_notes",
    "download_permissions_granted",
]


def woo_order(number: str, date: str, status: str, person: tuple[str, str, str, str],
              address: tuple[str, str, str, str], shipping: str,
              items: list[tuple[str, str, str, str, str]], coupon: str = "",
              order_discount: str = "0.00", note: str = "") -> list[dict[str, str]]:
    """person: (first, last, email, phone); address: (street, postcode, city, country);
    items: (name, sku, quantity, subtotal, total)."""
    first, last, email, phone = person
    street, postcode, city, country = address
    cart = sum(_cents("1", s) - _cents("1", t) for *_, s, t in items if _is_amount(s, t))
    goods = sum(_cents("1", t) for *_, t in items if _is_amount(t))
    total = goods + _cents("1", shipping) - _cents("1", order_discount)
    cart_text, total_text = f"{cart / 100:.2f}", f"{total / 100:.2f}"
    order = {
        "order_id": number, "order_number": number, "order_date": date, "status": status,
        "shipping_total": shipping, "shipping_tax_total": "0.00", "fee_total": "0.00",
        "fee_tax_total": "0.00", "tax_total": "0.00", "cart_discount": cart_text,
        "order_discount": order_discount, "discount_total": cart_text,
        "order_total": total_text, "refunded_total": "0.00", "order_currency": "EUR",
        "payment_method": "stripe", "shipping_method": "flat_rate", "customer_id": "0",
        "billing_first_name": first, "billing_last_name": last, "billing_email": email,
        "billing_phone": phone, "billing_address_1": street, "billing_postcode": postcode,
        "billing_city": city, "billing_country": country, "shipping_first_name": first,
        "shipping_last_name": last, "shipping_address_1": street,
        "shipping_postcode": postcode, "shipping_city": city, "shipping_country": country,
        "customer_note": note,
        "shipping_items": f"method:Flat rate|total:{shipping}",
        "coupon_items": f"code:{coupon}|amount:{cart_text}" if coupon else "",
        "download_permissions_granted": "0",
    }
    return [{**order, "item_id": str(int(number) * 10 + n), "item_product_id": str(200 + n),
             "item_name": name, "item_sku": sku, "item_quantity": qty,
             "item_subtotal": subtotal, "item_subtotal_tax": "0.00", "item_total": total_,
             "item_total_tax": "0.00", "item_refunded": "0.00", "item_refunded_qty": "0"}
            for n, (name, sku, qty, subtotal, total_) in enumerate(items, start=1)]


def write_woocommerce() -> None:
    anna = ("Anna", "Schmidt", "anna@example.de", "0171 2345678")
    lukas = ("Lukas", "Huber", "lukas@example.at", "+43 664 1234567")
    emma = ("Emma", "de Vries", "emma@example.nl", "+31 6 12345678")
    munich = ("Leopoldstraße 10", "80802", "München", "DE")
    vienna = ("Mariahilfer Straße 1", "1060", "Wien", "AT")
    utrecht = ("Oudegracht 100", "3511 AX", "Utrecht", "NL")
    records: list[dict[str, str]] = []
    records += woo_order("4101", "2024-11-05 14:22:31", "processing", anna, munich, "4.90",
                         [("Drachenbrunnen Grüntee 100g", "DW-100", "2", "37.00", "33.30"),
                          ("Gaiwan aus Porzellan, weiß", "GW-WHT", "1", "32.00", "28.80")],
                         coupon="herbst10", note="Bitte beim Nachbarn abgeben.")
    records += woo_order("4102", "2024-11-06 09:05:00", "completed", lukas, vienna, "9.90",
                         [("Oolong Probierset", "OOL-SMP", "1", "45.00", "45.00")])
    records += woo_order("4103", "2024-11-06 10:00:00", "on-hold", emma, utrecht, "7.90",
                         [("Pu-Erh Kuchen 357g", "PE-357", "1", "58.00", "58.00")],
                         order_discount="5.00")
    records += woo_order("4104", "2024-11-07 16:45:12", "refunded", anna, munich, "0.00",
                         [("Jasminperlen 50g", "JP-050", "3", "42.00", "42.00"),
                          ("Teetuch", "TOWEL-01", "2", "15.00", "15.00")])
    records += woo_order("4105", "2024-11-08 08:00:00", "cancelled", lukas, vienna, "9.90",
                         [("Matcha-Besen", "MW-01", "1", "22.00", "22.00")])
    # Bad rows, one kind each:
    records += woo_order("4106", "2024-11-09 10:00:00", "processing", anna, munich, "4.90",
                         [("Teetuch", "TOWEL-01", "zwei", "15.00", "15.00")])  # in words
    records += woo_order("4107", "09.11.2024 11:00", "processing", emma, utrecht, "7.90",
                         [("Matcha-Besen", "MW-01", "1", "22.00", "22.00")])  # German date
    records += woo_order("4108", "2024-11-10 12:00:00", "processing",
                         ("Max", "Muster", "max(at)example.de", "0171 2345679"), munich,
                         "4.90", [("Teetuch", "TOWEL-01", "1", "7.50", "7.50")])  # e-mail
    records += woo_order("4109", "2024-11-10 13:00:00", "checkout-draft", lukas, vienna,
                         "9.90", [("Oolong Probierset", "OOL-SMP", "1", "45.00", "45.00")])
    text = _csv([WOO_HEADER, *_rows(WOO_HEADER, records)])
    _target("woocommerce", "orders-2024-11-12.csv").write_text(text, encoding="utf-8")


def write_all() -> None:
    write_amazon()
    write_ebay()
    write_woocommerce()


if __name__ == "__main__":
    write_all()
