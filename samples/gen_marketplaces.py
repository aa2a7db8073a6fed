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
# are for the row's whole quantity; cancelled and pending items carry no price. The header
# is the 33-column one of caponica/AmazonMwsComplete (2020, mappings/README.md):
# no buyer columns ("The report does not include customer-identifying information").

AMAZON_HEADER = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
    "order-status", "fulfillment-channel", "sales-channel", "order-channel", "url",
    "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity", "currency",
    "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price",
    "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation", "is-sold-by-ab",
]


def amazon(order: str, purchased: str, status: str, product: str, sku: str, asin: str,
           qty: str, price: str, shipping: str, ship: tuple[str, str, str, str],
           item_off: str = "0.00", ship_off: str = "0.00", promo: str = "",
           currency: str = "USD", channel: str = "Amazon.com",
           item_status: str = "") -> dict[str, str]:
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
        "is-sold-by-ab": "false",
    }


def write_amazon() -> None:
    seattle = ("SEATTLE", "WA", "98109-5210", "US")
    austin = ("Austin", "TX", "78701", "US")
    toronto = ("Toronto", "ON", "M5H 3T4", "CA")
    free_ship = "US Core Free Shipping Promotion A2B3C4D5E6F7G8"
    records = [
        amazon("114-3941689-8772232", "2024-11-05T06:22:31-08:00", "Shipped",
               "Hill & Leaf Dragon Well Green Tea, 100g", "DW-100", "B0C1TEA001", "2",
               "37.00", "4.99", seattle, item_off="3.70", ship_off="4.99",
               promo=f"{free_ship},TENOFF-DW"),
        amazon("114-3941689-8772232", "2024-11-05T06:22:31-08:00", "Shipped",
               "Hill & Leaf Ceramic Gaiwan, White", "GW-WHT", "B0C1TEA002", "1", "32.00",
               "0.00", seattle, promo=free_ship),
        amazon("113-5550123-4401123", "2024-11-06T17:05:00+00:00", "Unshipped",
               "Hill & Leaf Oolong Sampler", "OOL-SMP", "B0C1TEA003", "1", "45.00", "5.99",
               austin),
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
        # A cancelled item in a shipped order (the item-status says so, not the order's):
        # output as cancelled, its shipped sibling as shipped.
        amazon("114-2468013-5791357", "2024-11-08T15:30:00-08:00", "Shipped",
               "Hill & Leaf Oolong Sampler", "OOL-SMP", "B0C1TEA003", "1", "45.00", "5.99",
               seattle),
        amazon("114-2468013-5791357", "2024-11-08T15:30:00-08:00", "Shipped",
               "Hill & Leaf Tea Towel", "TOWEL-01", "B0C1TEA006", "1", "7.50", "",
               seattle, item_status="Cancelled"),
        # A delivery sub-status of the report written by last update (Shipped - ...).
        amazon("114-1357924-6803579", "2024-11-04T08:00:00-08:00",
               "Shipped - Delivered to Buyer", "Hill & Leaf Matcha Whisk", "MW-01",
               "B0C1TEA008", "1", "22.00", "4.99", seattle, item_status="Shipped"),
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
        amazon("114-8889990-0001113", "2024-11-10T13:00:00-08:00", "Shipped",
               "Hill & Leaf Tea Towel", "TOWEL-01", "B0C1TEA006", "3", "20.00", "0.00",
               austin),  # 20.00 for 3 is no whole cent a unit
    ]
    text = _csv([AMAZON_HEADER, *_rows(AMAZON_HEADER, records)], delimiter="\t",
                terminator="\n")
    _target("amazon", "All_Orders_20241112.txt").write_text(text, encoding="utf-8")


# Amazon Seller Central Order report ("New Orders", _GET_FLAT_FILE_ORDERS_DATA_, MFN):
# TAB-separated, one row per order item (order-item-id), the order's columns repeated; the
# buyer, the recipient and the full address; no order status (payments-date empty: not
# paid yet). Every amount is for the row's whole quantity ("All amounts are aggregates of
# the quantity, not unit prices", help 201648780). The 41-column header with billing and
# promotion columns (mappings/README.md; note "delivery-Instructions").

AMAZON_ORDER_REPORT_HEADER = [
    "order-id", "order-item-id", "purchase-date", "payments-date", "buyer-email", "buyer-name",
    "buyer-phone-number", "sku", "product-name", "quantity-purchased", "currency",
    "item-price", "item-tax", "shipping-price", "shipping-tax", "ship-service-level",
    "recipient-name", "ship-address-1", "ship-address-2", "ship-address-3", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "ship-phone-number", "bill-address-1",
    "bill-address-2", "bill-address-3", "bill-city", "bill-state", "bill-postal-code",
    "bill-country", "item-promotion-discount", "item-promotion-id", "ship-promotion-discount",
    "ship-promotion-id", "delivery-start-date", "delivery-end-date", "delivery-time-zone",
    "delivery-Instructions", "sales-channel",
]

# Amazon Unshipped orders report (_GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_): TAB-separated, one
# row per order item, quantities only: no price, currency or tax column at all. The 30-column
# header of 2025 (mappings/README.md).

AMAZON_UNSHIPPED_HEADER = [
    "order-id", "order-item-id", "purchase-date", "payments-date", "reporting-date",
    "promise-date", "days-past-promise", "buyer-email", "buyer-name", "buyer-phone-number",
    "sku", "product-name", "quantity-purchased", "quantity-shipped", "quantity-to-ship",
    "ship-service-level", "recipient-name", "ship-address-1", "ship-address-2",
    "ship-address-3", "ship-city", "ship-state", "ship-postal-code", "ship-country",
    "is-business-order", "purchase-order-number", "price-designation", "is-iba",
    "verge-of-cancellation", "verge-of-lateShipment",
]

# (name, e-mail, phone, address 1, address 2, city, state, postcode, country)
AmazonBuyer = tuple[str, str, str, str, str, str, str, str, str]


def amazon_item(order: str, item: str, purchased: str, paid: str, buyer: AmazonBuyer,
                sku: str, product: str, qty: str, **cells: str) -> dict[str, str]:
    """One item row of the Order report or the Unshipped report (the cells both share)."""
    name, email, phone, line1, line2, city, state, postcode, country = buyer
    return {
        "order-id": order, "order-item-id": item, "purchase-date": purchased,
        "payments-date": paid, "buyer-email": email, "buyer-name": name,
        "buyer-phone-number": phone, "sku": sku, "product-name": product,
        "quantity-purchased": qty, "ship-service-level": "Standard", "recipient-name": name,
        "ship-address-1": line1, "ship-address-2": line2, "ship-city": city,
        "ship-state": state, "ship-postal-code": postcode, "ship-country": country,
        **cells,
    }


def amazon_priced(price: str, shipping: str = "0.00", item_off: str = "0.00",
                  item_promo: str = "", ship_off: str = "0.00", ship_promo: str = "",
                  currency: str = "USD", channel: str = "Amazon.com",
                  phone: str = "") -> dict[str, str]:
    """The Order report's amount cells (each for the row's whole quantity)."""
    return {"currency": currency, "item-price": price, "item-tax": "0.00",
            "shipping-price": shipping, "shipping-tax": "0.00",
            "ship-phone-number": phone, "item-promotion-discount": item_off,
            "item-promotion-id": item_promo, "ship-promotion-discount": ship_off,
            "ship-promotion-id": ship_promo, "sales-channel": channel}


def write_amazon_order_report() -> None:
    ruth = ("Ruth Example", "q7w2e9r4t1y6u3@marketplace.amazon.com", "+1 206-555-0147",
            "400 Pine St", "Suite 200", "Seattle", "WA", "98101-1234", "US")
    omar = ("Omar Sample", "m4n8b2v6c1x5z9@marketplace.amazon.com", "512-555-0163",
            "1100 Congress Ave", "", "Austin", "TX", "78701", "US")
    lena = ("Lena Muster", "h3j7k1l5g9f2d6@marketplace.amazon.de", "030 5550 1234",
            "Musterstraße 12", "", "Berlin", "", "10115", "DE")
    free_ship = "US Core Free Shipping Promotion A2B3C4D5E6F7G8"
    records = [
        # Two items: item-price for the row's quantity (2 x 18.50 = 37.00), a 10% item
        # promotion on the first, shipping per item and its free-shipping promotion.
        amazon_item("112-4455667-8899001", "61234567890123", "2024-11-05T06:22:31-08:00",
                    "2024-11-05T06:23:02-08:00", ruth, "DW-100",
                    "Hill & Leaf Dragon Well Green Tea, 100g", "2",
                    **amazon_priced("37.00", "4.99", "3.70", "TENOFF-DW", "4.99", free_ship,
                                    phone="+1 206-555-0147")),
        amazon_item("112-4455667-8899001", "61234567890124", "2024-11-05T06:22:31-08:00",
                    "2024-11-05T06:23:02-08:00", ruth, "GW-WHT",
                    "Hill & Leaf Ceramic Gaiwan, White", "1",
                    **amazon_priced("32.00", "0.00", phone="+1 206-555-0147")),
        amazon_item("112-5566778-9900112", "61234567890125", "2024-11-06T09:10:00-06:00",
                    "2024-11-06T09:10:40-06:00", omar, "JP-050",
                    "Hill & Leaf Jasmine Pearls, 50g", "3",
                    **amazon_priced("42.00", "3.99")),
        # Amazon.de, EUR, a buyer's note with no delivery window.
        amazon_item("302-1234567-1234567", "71234567890126", "2024-11-07T10:00:00+01:00",
                    "2024-11-07T10:00:30+01:00", lena, "PE-357",
                    "Hill & Leaf Pu-erh Kuchen 357g", "1",
                    **amazon_priced("58.00", "4.50", currency="EUR", channel="Amazon.de"),
                    **{"delivery-Instructions": "Bitte beim Nachbarn abgeben"}),
        # Not paid yet (no payments-date): pending_payment.
        amazon_item("112-6677889-0011223", "61234567890127", "2024-11-08T20:00:00-08:00", "",
                    ruth, "MW-01", "Hill & Leaf Matcha Whisk", "1",
                    **amazon_priced("22.00", "4.99")),
        # Bad rows, one kind each:
        amazon_item("112-7788990-1122334", "61234567890128", "2024-11-31T10:00:00-08:00",
                    "2024-11-31T10:00:30-08:00", omar, "OOL-SMP",
                    "Hill & Leaf Oolong Sampler", "1",
                    **amazon_priced("45.00", "5.99")),  # 31 November
        amazon_item("112-8899001-2233445", "61234567890129", "2024-11-09T10:00:00-08:00",
                    "2024-11-09T10:00:30-08:00", ruth, "TOWEL-01", "Hill & Leaf Tea Towel",
                    "3", **amazon_priced("20.00")),  # 20.00 for 3: no whole cent a unit
        # A second promotion on an item is a continuation row with most columns blank
        # (help 651): it is not an item; it is rejected and holds its order back (the
        # ERP gets no order with a promotion missing).
        amazon_item("112-9900112-3344556", "61234567890130", "2024-11-09T11:00:00-08:00",
                    "2024-11-09T11:00:30-08:00", omar, "TRAY-BMB",
                    "Hill & Leaf Bamboo Tea Tray", "1",
                    **amazon_priced("49.99", "3.99", "5.00", "BAMBOO5")),
        {"order-id": "112-9900112-3344556", "item-promotion-discount": "2.50",
         "item-promotion-id": "LOYALTY-2"},
    ]
    header = AMAZON_ORDER_REPORT_HEADER
    text = _csv([header, *_rows(header, records)], delimiter="\t", terminator="\r\n")
    _target("amazon", "Order_Report_20241112.txt").write_text(text, encoding="utf-8")


def write_amazon_unshipped() -> None:
    ruth = ("Ruth Example", "q7w2e9r4t1y6u3@marketplace.amazon.com", "+1 206-555-0147",
            "400 Pine St", "Suite 200", "Seattle", "WA", "98101-1234", "US")
    priya = ("Priya Sample", "z1x2c3v4b5n6m7@marketplace.amazon.in", "+91 98765 43210",
             "12 MG Road", "Near Metro Gate 2", "Bengaluru", "KARNATAKA", "560001", "IN")

    def unshipped(order: str, item: str, purchased: str, buyer: AmazonBuyer, sku: str,
                  product: str, qty: str, shipped: str, promise: str,
                  days: str) -> dict[str, str]:
        to_ship = str(int(qty) - int(shipped)) if qty.isdigit() else ""
        return amazon_item(order, item, purchased, purchased, buyer, sku, product, qty, **{
            "reporting-date": "2024-11-12T04:00:00+00:00", "promise-date": promise,
            "days-past-promise": days, "quantity-shipped": shipped,
            "quantity-to-ship": to_ship, "is-business-order": "false", "is-iba": "false",
            "verge-of-cancellation": "false", "verge-of-lateShipment": "false"})

    records = [
        # Open items: no price anywhere in this report. Every row waits (not-yet-priced)
        # for the Order report or the All Orders report that carries it priced.
        unshipped("112-5566778-9900112", "61234567890125", "2024-11-06T09:10:00-06:00", ruth,
                  "JP-050", "Hill & Leaf Jasmine Pearls, 50g", "3", "0",
                  "2024-11-13T07:59:59+00:00", "-1"),
        unshipped("112-6677889-0011223", "61234567890127", "2024-11-08T20:00:00-08:00", ruth,
                  "MW-01", "Hill & Leaf Matcha Whisk", "2", "1",
                  "2024-11-14T07:59:59+00:00", "-2"),
        unshipped("407-1122334-5566778", "81234567890131", "2024-11-10T08:34:47+05:30", priya,
                  "OOL-SMP", "Hill & Leaf Oolong Sampler", "1", "0",
                  "2024-11-11T18:29:59+00:00", "1"),
        unshipped("407-1122334-5566778", "81234567890132", "2024-11-10T08:34:47+05:30", priya,
                  "GW-WHT", "Hill & Leaf Ceramic Gaiwan, White", "2", "0",
                  "2024-11-11T18:29:59+00:00", "1"),
        # A row that would be bad in a priced report (31 November, a quantity in words)
        # waits all the same: it is not checked until its priced export arrives.
        unshipped("112-7788990-1122334", "61234567890128", "2024-11-31T10:00:00-08:00", ruth,
                  "OOL-SMP", "Hill & Leaf Oolong Sampler", "one", "0",
                  "2024-12-07T07:59:59+00:00", "-5"),
    ]
    header = AMAZON_UNSHIPPED_HEADER
    text = _csv([header, *_rows(header, records)], delimiter="\t", terminator="\r\n")
    _target("amazon", "Unshipped_Orders_20241112.txt").write_text(text, encoding="utf-8")


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


# eBay Selling Manager "Sales History" download (SalesHistory.csv, the File Exchange era,
# ~2010-2018): 40 columns, the first header cell behind a TAB ("\tSales Record Number"), a
# row of empty cells above the header and one below it, one more under the data, then the
# "N, record(s) downloaded,from ,<date>,<time>, to ,<date>,<time>" footer and a
# "Seller ID: ..." line, every one padded with commas to the header's width (as
# damascene/Ebay-libreoffice-shipping-labels SalesHistory.csv, 2016). A multi-item order is
# a summary row (buyer, address, shipping, tax, total; no item) followed by one row per item
# (record number, user id, the item; buyer cells empty: jukibom/ebay2hermes). Sale Price is
# the unit price, written "$5.90" or "$3"; dates Jan-18-16. LF line ends, no BOM.

EBAY_SALES_HISTORY_HEADER = [
    "\tSales Record Number", "User Id", "Buyer Fullname", "Buyer Phone Number", "Buyer Email",
    "Buyer Address 1", "Buyer Address 2", "Buyer City", "Buyer State", "Buyer Zip",
    "Buyer Country", "Item Number", "Item Title", "Custom Label", "Quantity", "Sale Price",
    "Shipping and Handling", "US Tax", "Insurance", "Cash on delivery fee", "Total Price",
    "Payment Method", "Sale Date", "Checkout Date", "Paid on Date", "Shipped on Date",
    "Feedback left", "Feedback received", "Notes to yourself", "Unique Product Id",
    "Private Field", "ProductIDType", "ProductIDValue", "ProductIDValue-2",
    "PayPal Transaction ID", "Shipping Service", "Cash on delivery option", "Transaction ID",
    "Order ID", "Variation Details",
]


def ebay_history_order(record: int, user: str, buyer: tuple[str, str, str, str, str, str,
                                                              str, str, str],
                       sold: str, paid: str, shipped: str, shipping: str, tax: str,
                       total: str, items: list[tuple[str, str, str, str, str]],
                       insurance: str = "$0.00") -> list[dict[str, str]]:
    """buyer: (full name, phone, e-mail, address 1, address 2, city, state, zip, country);
    items: (Item Number, Item Title, Custom Label, Quantity, Sale Price)."""
    name, phone, email, line1, line2, city, state, zipcode, country = buyer
    head = EBAY_SALES_HISTORY_HEADER[0]
    order_cells = {
        head: str(record), "User Id": user, "Buyer Fullname": name,
        "Buyer Phone Number": phone, "Buyer Email": email, "Buyer Address 1": line1,
        "Buyer Address 2": line2, "Buyer City": city, "Buyer State": state,
        "Buyer Zip": zipcode, "Buyer Country": country, "Shipping and Handling": shipping,
        "US Tax": tax, "Insurance": insurance, "Total Price": total,
        "Payment Method": "PayPal", "Sale Date": sold, "Checkout Date": paid,
        "Paid on Date": paid, "Shipped on Date": shipped,
        "Shipping Service": "US Postal Service First Class Package",
        "PayPal Transaction ID": f"{record}X{record * 7919 % 100000:05d}PP" if paid else "",
    }

    def item_cells(item: tuple[str, str, str, str, str], n: int) -> dict[str, str]:
        number, title, label, qty, price = item
        return {"Item Number": number, "Item Title": title, "Custom Label": label,
                "Quantity": qty, "Sale Price": price,
                "Transaction ID": f"{1500000000000 + record * 10 + n}"}

    if len(items) == 1:
        return [{**order_cells, **item_cells(items[0], 0)}]
    combined = f"{record}{record * 31 % 1000:03d}000"  # the combined order's Order ID
    summary = {**order_cells, "Order ID": combined}
    lines = [{head: str(record), "User Id": user, "Sale Date": sold, "Order ID": combined,
              **item_cells(item, n)} for n, item in enumerate(items, start=1)]
    return [summary, *lines]


def write_ebay_sales_history() -> None:
    portland = ("Casey Example", "(503) 555-0118", "casey@example.com", "100 SW Main St",
                "Unit 3", "Portland", "OR", "97204", "United States")
    denver = ("Robin Sample", "303-555-0190", "robin@example.net", "1600 Broadway", "",
              "Denver", "CO", "80202", "United States")
    miami = ("Alex Placeholder", "+1 305 555 0123", "alex@example.org", "200 Biscayne Blvd",
             "", "Miami", "FL", "33131", "United States")
    cup = ("281934567801", "Porcelain Tea Cup White 150ml", "CUP-W-01", "1", "$5.00")
    records: list[dict[str, str]] = []
    records += ebay_history_order(1201, "casey_tea", portland, "Jan-18-16", "Jan-18-16",
                                  "Jan-19-16", "$0.00", "$0.00", "$11.80",
                                  [("281934567802", "Jasmine Green Tea 50g Tin", "JG-050",
                                    "2", "$5.90")])
    records += ebay_history_order(1202, "robin.s", denver, "Jan-18-16", "Jan-18-16", "",
                                  "$0.00", "$0.00", "$12",
                                  [("281934567803", "Bamboo Tea Scoop", "SCOOP-01", "4",
                                    "$3")])  # whole dollars, as eBay writes them
    # A combined order: its summary row, then one row per item.
    records += ebay_history_order(1203, "alex_p", miami, "Jan-18-16", "Jan-18-16",
                                  "Jan-19-16", "$3.00", "$0.00", "$18.00",
                                  [cup, ("281934567804", "Porcelain Saucer White",
                                         "SAUCER-W", "2", "$5.00")])
    records += ebay_history_order(1204, "casey_tea", portland, "Jan-18-16", "", "", "$0.00",
                                  "$0.00", "$19.50",
                                  [("281934567805", "Cast Iron Teapot 0.8l", "POT-CI-08",
                                    "1", "$19.50")])  # not paid yet
    # A combined order with sales tax: 22.00 + 3 x 14.00 + 5.00 + 5.12 = 74.12.
    records += ebay_history_order(1205, "robin.s", denver, "Jan-18-16", "Jan-18-16", "",
                                  "$5.00", "$5.12", "$74.12",
                                  [("281934567806", "Matcha Whisk 100 Prong", "MW-01", "1",
                                    "$22.00"),
                                   ("281934567807", "Oolong Sampler 5 x 10g", "OOL-SMP", "3",
                                    "$14.00")])
    # Bad rows, one kind each:
    records += ebay_history_order(1206, "alex_p", miami, "Jan-18-16", "Jan-18-16", "",
                                  "$4.00", "$0.00", "$25.50",
                                  [("281934567805", "Cast Iron Teapot 0.8l", "POT-CI-08",
                                    "1", "$19.50")],
                                  insurance="$2.00")  # insurance: in the total, no field
    records += ebay_history_order(1207, "casey_tea", portland, "Feb-30-16", "Feb-30-16", "",
                                  "$0.00", "$0.00", "$5.00", [cup])  # 30 February
    records += ebay_history_order(1208, "robin.s", denver, "Jan-18-16", "Jan-18-16", "",
                                  "$3.00", "$0.00", "$23.00",
                                  [cup, ("281934567808", "Linen Tea Towel", "TOWEL-01", "2",
                                         "$7.5O")])  # letter O in one item's price
    header = EBAY_SALES_HISTORY_HEADER
    width = len(header)
    body = _rows(header, records)

    def padded(*cells: str) -> list[str]:
        return [*cells, *[""] * (width - len(cells))]

    lines = [padded(), header, padded(), *body, padded(),
             padded(str(len(body)), " record(s) downloaded", "from ", "Jan-18-16", "16:41:35",
                    " to ", "Jan-18-16", "21:54:24"),
             padded("Seller ID: hillandleaf_tea")]
    _target("ebay", "SalesHistory.csv").write_text(_csv(lines, terminator="\n"),
                                                    encoding="utf-8")


# WooCommerce Customer / Order CSV Export (SkyVerge), format "Default - one row per item":
# UTF-8 CSV, the order's columns repeated on every item row; times in the shop's zone;
# item_subtotal is before the coupon, item_total after it (coupons are spread over the
# items). The header is the plugin's default_one_row_per_item (lafranceinsoumise/
# woocommerce-customer-order-csv-export, v5.5.0, mappings/README.md): "date",
# no cart_discount / order_discount (replaced by discount_total in 3.x).

WOO_HEADER = [
    "order_id", "order_number", "date", "status", "shipping_total", "shipping_tax_total",
    "fee_total", "fee_tax_total", "tax_total", "discount_total", "order_total",
    "refunded_total", "order_currency", "payment_method", "shipping_method", "customer_id",
    "billing_first_name", "billing_last_name", "billing_company", "billing_email",
    "billing_phone", "billing_address_1", "billing_address_2", "billing_postcode",
    "billing_city", "billing_state", "billing_country", "shipping_first_name",
    "shipping_last_name", "shipping_address_1", "shipping_address_2", "shipping_postcode",
    "shipping_city", "shipping_state", "shipping_country", "shipping_company",
    "customer_note", "item_id", "item_product_id", "item_name", "item_sku", "item_quantity",
    "item_subtotal", "item_subtotal_tax", "item_total", "item_total_tax", "item_refunded",
    "item_refunded_qty", "item_meta", "shipping_items", "fee_items", "tax_items",
    "coupon_items", "order_notes", "download_permissions_granted",
]


def woo_order(number: str, date: str, status: str, person: tuple[str, str, str, str],
              address: tuple[str, str, str, str], shipping: str,
              items: list[tuple[str, str, str, str, str]], coupon: str = "",
              fee: str = "0.00", note: str = "") -> list[dict[str, str]]:
    """person: (first, last, email, phone); address: (street, postcode, city, country);
    items: (name, sku, quantity, subtotal, total)."""
    first, last, email, phone = person
    street, postcode, city, country = address
    cart = sum(_cents("1", s) - _cents("1", t) for *_, s, t in items if _is_amount(s, t))
    goods = sum(_cents("1", t) for *_, t in items if _is_amount(t))
    total = goods + _cents("1", shipping) + _cents("1", fee)
    cart_text, total_text = f"{cart / 100:.2f}", f"{total / 100:.2f}"
    order = {
        "order_id": number, "order_number": number, "date": date, "status": status,
        "shipping_total": shipping, "shipping_tax_total": "0.00", "fee_total": fee,
        "fee_tax_total": "0.00", "tax_total": "0.00", "discount_total": cart_text,
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
                         [("Pu-Erh Kuchen 357g", "PE-357", "1", "58.00", "58.00")])
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
    records += woo_order("4110", "2024-11-10 14:00:00", "processing", emma, utrecht, "7.90",
                         [("Teetuch", "TOWEL-01", "1", "7.50", "7.50")],
                         fee="2.00")  # a fee: in order_total, in no line or field
    text = _csv([WOO_HEADER, *_rows(WOO_HEADER, records)])
    _target("woocommerce", "orders-2024-11-12.csv").write_text(text, encoding="utf-8")


# "Advanced Order Export For WooCommerce" (algolplus, woo-order-export-lite), its default
# CSV: the 37 columns its field list checks by default (mappings/README.md,
# derived from classes/core/class-wc-order-export-data-extractor-ui.php), products as rows,
# "populate other columns" on (the order's columns on every item row), the coupon on the
# order's first row; PHP fputcsv: quotes around a cell only when it holds a space, comma,
# quote, tab or line break (so "Order Number" is quoted, SKU is not); CRLF; no BOM. Order
# Date "Y-m-d H:i"; the status its localised label. Item Cost is the unit price AFTER the
# cart discount, without tax; Cart Discount Amount is that discount (already in the Item
# Costs); Order Total Amount = Σ Quantity × Item Cost + shipping + tax (+ fees).

WOO_AOE_HEADER = [
    "Order Number", "Order Status", "Order Date", "Customer Note", "First Name (Billing)",
    "Last Name (Billing)", "Company (Billing)", "Address 1&2 (Billing)", "City (Billing)",
    "State Code (Billing)", "Postcode (Billing)", "Country Code (Billing)", "Email (Billing)",
    "Phone (Billing)", "First Name (Shipping)", "Last Name (Shipping)",
    "Address 1&2 (Shipping)", "City (Shipping)", "State Code (Shipping)",
    "Postcode (Shipping)", "Country Code (Shipping)", "Item #", "SKU", "Item Name",
    "Quantity", "Item Cost", "Coupon Code", "Discount Amount", "Discount Amount Tax",
    "Shipping Method Title", "Payment Method Title", "Cart Discount Amount",
    "Order Subtotal Amount", "Order Shipping Amount", "Order Refund Amount",
    "Order Total Amount", "Order Total Tax Amount",
]


def _fputcsv(rows: list[list[str]]) -> str:
    """Rows as PHP's fputcsv writes them (the plugin's writer), CRLF line ends."""
    def cell(text: str) -> str:
        if any(c in text for c in ' ,"\\\t\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text
    return "".join(",".join(cell(c) for c in row) + "\r\n" for row in rows)


def _vat(cents: int) -> int:
    """19 % of an amount in cents, rounded half up to the cent."""
    return (cents * 19 + 50) // 100


def woo_aoe_order(number: str, date: str, status: str, person: tuple[str, str, str, str],
                  address: tuple[str, str, str, str], shipping: str,
                  items: list[tuple[str, str, str, str, str]], coupon: str = "",
                  cart_discount: str = "0.00", fee: str = "0.00",
                  stated_lines: str = "", note: str = "") -> list[dict[str, str]]:
    """items: (name, sku, quantity, list price, Item Cost); the order's tax is 19 % of the
    net lines and shipping; stated_lines: the lines' total WooCommerce holds when it differs
    from Σ quantity × Item Cost (Item Cost is rounded to the cent)."""
    first, last, email, phone = person
    street, postcode, city, country = address
    subtotal = sum(_cents(q, p) for _, _, q, p, _ in items if _is_amount(q, p))
    lines = (_cents("1", stated_lines) if stated_lines else
             sum(_cents(q, c) for *_, q, _, c in items if _is_amount(q, c)))
    net = lines + _cents("1", shipping) + _cents("1", fee)
    tax = _vat(net)
    order = {
        "Order Number": number, "Order Status": status, "Order Date": date,
        "Customer Note": note, "First Name (Billing)": first, "Last Name (Billing)": last,
        "Address 1&2 (Billing)": street, "City (Billing)": city,
        "Postcode (Billing)": postcode, "Country Code (Billing)": country,
        "Email (Billing)": email, "Phone (Billing)": phone, "First Name (Shipping)": first,
        "Last Name (Shipping)": last, "Address 1&2 (Shipping)": street,
        "City (Shipping)": city, "Postcode (Shipping)": postcode,
        "Country Code (Shipping)": country, "Shipping Method Title": "Flat rate",
        "Payment Method Title": "Credit Card (Stripe)", "Cart Discount Amount": cart_discount,
        "Order Subtotal Amount": f"{subtotal / 100:.2f}", "Order Shipping Amount": shipping,
        "Order Refund Amount": "0", "Order Total Amount": f"{(net + tax) / 100:.2f}",
        "Order Total Tax Amount": f"{tax / 100:.2f}",
    }
    if status == "Refunded":
        order["Order Refund Amount"] = order["Order Total Amount"]
    rows = []
    for n, (name, sku, qty, _, cost) in enumerate(items, start=1):
        row = {**order, "Item #": str(n), "SKU": sku, "Item Name": name, "Quantity": qty,
               "Item Cost": cost}
        if n == 1 and coupon:  # the coupon row merges with the first product row
            row.update({"Coupon Code": coupon, "Discount Amount": cart_discount,
                        "Discount Amount Tax": f"{_vat(_cents('1', cart_discount)) / 100:.2f}"})
        rows.append(row)
    return rows


def write_woocommerce_aoe() -> None:
    jana = ("Jana", "Beispiel", "jana@example.de", "0151 23456789")
    tom = ("Tom", "Muster", "tom@example.de", "+49 30 55501234")
    hamburg = ("Beispielweg 7", "20095", "Hamburg", "DE")
    berlin = ("Musterstraße 12, Hinterhaus", "10115", "Berlin", "DE")
    records: list[dict[str, str]] = []
    # A 10 % coupon (4.00) spread by WooCommerce into the lines: Item Cost 9.00 (list
    # 10.00) and 18.00 (list 20.00); 36.00 + 5.00 shipping + 7.79 tax = 48.79.
    records += woo_aoe_order("5001", "2024-11-05 14:22", "Completed", jana, hamburg, "5.00",
                             [("Teebecher Blau", "MUG-1", "2", "10.00", "9.00"),
                              ("Teller Weiß", "PLT-1", "1", "20.00", "18.00")],
                             coupon="save10", cart_discount="4.00",
                             note="Bitte klingeln, Hinterhaus")
    records += woo_aoe_order("5002", "2024-11-06 09:05", "Processing", tom, berlin, "4.90",
                             [("Jasminperlen 50g", "JP-050", "3", "12.50", "12.50")])
    records += woo_aoe_order("5003", "2024-11-06 10:00", "On hold", jana, hamburg, "0.00",
                             [("Pu-Erh Kuchen 357g", "PE-357", "1", "58.00", "58.00")])
    records += woo_aoe_order("5004", "2024-11-07 16:45", "Cancelled", tom, berlin, "4.90",
                             [("Matcha-Besen", "MW-01", "1", "22.00", "22.00")])
    records += woo_aoe_order("5005", "2024-11-08 08:00", "Refunded", jana, hamburg, "4.90",
                             [("Teetuch", "TOWEL-01", "2", "7.50", "7.50"),
                              ("Oolong Probierset", "OOL-SMP", "1", "15.00", "15.00")])
    # Bad rows, one kind each:
    records += woo_aoe_order("5006", "2024-11-09 10:00", "Processing", tom, berlin, "4.90",
                             [("Oolong Probierset", "OOL-SMP", "1", "45.00", "45.00")],
                             fee="2.00")  # a fee: in the total, in no column of this export
    records += woo_aoe_order("5007", "09.11.2024 11:00", "Processing", jana, hamburg, "4.90",
                             [("Matcha-Besen", "MW-01", "1", "22.00", "22.00")])  # German date
    records += woo_aoe_order("5008", "2024-11-10 12:00", "Entwurf", tom, berlin, "4.90",
                             [("Teetuch", "TOWEL-01", "1", "7.50", "7.50")])  # no such status
    # A 10 % coupon on 3 x 9.99: the line is 26.97 - 2.70 = 26.27 after it, 8.76 a unit
    # rounded: Item Cost x 3 = 26.28 is a cent off the line WooCommerce totals.
    records += woo_aoe_order("5009", "2024-11-10 13:00", "Processing", jana, hamburg, "4.90",
                             [("Teeglas", "GLS-1", "3", "9.99", "8.76")], coupon="save10",
                             cart_discount="2.70", stated_lines="26.27")
    header = WOO_AOE_HEADER
    _target("woocommerce", "orders-2024-11-12-advanced-order-export.csv").write_text(
        _fputcsv([header, *_rows(header, records)]), encoding="utf-8")


# "Order Export & Order Import for WooCommerce" (WebToffee, order-import-export-for-woocommerce
# 2.7.4; mappings/README.md): one row per ORDER, its header the plugin's column
# keys in their default order, then line_item_1 ... line_item_N (N: the most items of any
# order exported), each item packed as name:…|product_id:…|sku:…|quantity:…|total:…|
# sub_total:… then |tax:…|tax_data:… (tax ≠ 0) and the item's other meta (|_reduced_stock:…,
# |pa_color:…, |_variation_id:…); values not escaped. The bulk exporter quotes every cell.
# total is the line after coupons, sub_total before them (both without tax); cart_discount,
# order_discount and discount_total are all get_total_discount(); order_total = Σ total +
# shipping_total + fee_total + tax_total; coupon_items' amount is the coupon's configured
# value (10 for 10 %), not what it took off.

WEBTOFFEE_HEADER = [
    "order_id", "order_number", "order_date", "paid_date", "status", "shipping_total",
    "shipping_tax_total", "fee_total", "fee_tax_total", "tax_total", "cart_discount",
    "order_discount", "discount_total", "order_total", "order_subtotal", "order_key",
    "order_currency", "payment_method", "payment_method_title", "transaction_id",
    "customer_ip_address", "customer_user_agent", "shipping_method", "customer_id",
    "customer_user", "customer_email", "billing_first_name", "billing_last_name",
    "billing_company", "billing_email", "billing_phone", "billing_address_1",
    "billing_address_2", "billing_postcode", "billing_city", "billing_state",
    "billing_country", "shipping_first_name", "shipping_last_name", "shipping_company",
    "shipping_phone", "shipping_address_1", "shipping_address_2", "shipping_postcode",
    "shipping_city", "shipping_state", "shipping_country", "customer_note", "wt_import_key",
    "tax_items", "shipping_items", "fee_items", "coupon_items", "refund_items", "order_notes",
    "download_permissions", "line_item_1", "line_item_2", "line_item_3",
]


def _quote_all(rows: list[list[str]]) -> str:
    """Every cell quoted, as the plugin's bulk exporter writes them (``wrap_column``)."""
    return "".join(",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n"
                   for row in rows)


def _amount(cents: int) -> str:
    return f"{cents / 100:.2f}"


def webtoffee_order(number: str, date: str, status: str, person: tuple[str, str, str, str],
                    address: tuple[str, str, str, str], shipping: str,
                    items: list[tuple[str, str, str, str, str, str]], coupon: str = "",
                    fee: str = "0.00", vat: bool = True, note: str = "") -> dict[str, str]:
    """items: (name, product_id, sku, quantity, sub_total, total) and, after them, the
    item's meta as packed text (``|pa_color:blue``); 19 % tax on the lines and shipping."""
    first, last, email, phone = person
    street, postcode, city, country = address
    net = [(_cents("1", i[5]) if _is_amount(i[5]) else 0) for i in items]
    subtotal = sum(_cents("1", i[4]) for i in items if _is_amount(i[4]))
    discount = subtotal - sum(net)
    ship, fee_cents = _cents("1", shipping), _cents("1", fee)
    line_tax = [_vat(n) if vat else 0 for n in net]
    tax = sum(line_tax) + (_vat(ship) if vat else 0)
    total = sum(net) + ship + fee_cents + tax
    order = {
        "order_id": number, "order_number": number, "order_date": date,
        "paid_date": "" if status in ("pending", "on-hold") else date, "status": status,
        "shipping_total": shipping, "shipping_tax_total": _amount(_vat(ship) if vat else 0),
        "fee_total": fee, "fee_tax_total": "0.00", "tax_total": _amount(tax),
        "cart_discount": _amount(discount), "order_discount": _amount(discount),
        "discount_total": _amount(discount), "order_total": _amount(total),
        "order_subtotal": _amount(subtotal), "order_key": f"wc_order_{number}abc",
        "order_currency": "EUR", "payment_method": "stripe",
        "payment_method_title": "Kreditkarte (Stripe)", "transaction_id": f"ch_{number}",
        "customer_ip_address": "203.0.113.7", "customer_user_agent": "Mozilla/5.0",
        "shipping_method": "Flat rate", "customer_id": "7", "customer_user": "7",
        "customer_email": email, "billing_first_name": first, "billing_last_name": last,
        "billing_email": email, "billing_phone": phone, "billing_address_1": street,
        "billing_postcode": postcode, "billing_city": city, "billing_country": country,
        "shipping_first_name": first, "shipping_last_name": last, "shipping_phone": phone,
        "shipping_address_1": street, "shipping_postcode": postcode, "shipping_city": city,
        "shipping_country": country, "customer_note": note,
        "tax_items": f"rate_id:1|code:DE-MWST-1|total:{_amount(tax)}" if vat else "",
        "shipping_items": f"method_id:flat_rate|method_title:Flat rate|total:{shipping}",
        "fee_items": f"name:Verpackung|total:{fee}|tax:0.00" if fee_cents else "",
        "coupon_items": f"code:{coupon}|amount:10.00" if coupon else "",
        "download_permissions": "0",
    }
    for n, (item, tax_cents) in enumerate(zip(items, line_tax, strict=True), start=1):
        name, product, sku, qty, sub, tot = item[:6]
        cell = (f"name:{name}|product_id:{product}|sku:{sku}|quantity:{qty}|total:{tot}"
                f"|sub_total:{sub}")
        if tax_cents:
            cell += (f"|tax:{_amount(tax_cents)}|tax_data:"
                     f'{{"total":{{"1":"{_amount(tax_cents)}"}},"subtotal":{{"1":"0"}}}}')
        order[f"line_item_{n}"] = cell + f"|_reduced_stock:{qty}" + "".join(item[6:])
    return order


def write_woocommerce_webtoffee() -> None:
    jana = ("Jana", "Beispiel", "jana@example.de", "0151 23456789")
    tom = ("Tom", "Muster", "tom@example.de", "+49 30 55501234")
    hamburg = ("Beispielweg 7", "20095", "Hamburg", "DE")
    berlin = ("Musterstraße 12", "10115", "Berlin", "DE")
    records = [
        # Two items and a 10 % coupon WooCommerce spread into the lines (total < sub_total).
        webtoffee_order("6001", "2024-11-05 14:22:31", "completed", jana, hamburg, "5.00",
                        [("Teebecher Blau", "11", "MUG-1", "2", "20.00", "18.00"),
                         ("Teller Weiß", "12", "PLT-1", "1", "10.00", "9.00")],
                        coupon="save10", note="Bitte klingeln"),
        # A variation (its attribute and variation id as meta); a ':' in a title is read.
        webtoffee_order("6002", "2024-11-06 09:05:00", "processing", tom, berlin, "4.90",
                        [("Tee: Sencha 100g", "21", "SEN-100", "3", "37.50", "37.50",
                          "|pa_groesse:100g", "|_variation_id:22")]),
        webtoffee_order("6003", "2024-11-06 10:00:00", "on-hold", jana, hamburg, "0.00",
                        [("Pu-Erh Kuchen 357g", "31", "PE-357", "1", "58.00", "58.00"),
                         ("Teetuch", "32", "TOWEL-01", "2", "15.00", "15.00"),
                         ("Matcha-Besen", "33", "MW-01", "1", "22.00", "22.00")]),
        # Bad rows, one kind each:
        # A '|' in a title: the cell does not split (not escaped); its order is held back.
        webtoffee_order("6004", "2024-11-07 16:45:12", "processing", tom, berlin, "4.90",
                        [("Teekanne | Gusseisen", "41", "POT-1", "1", "45.00", "45.00"),
                         ("Teetuch", "32", "TOWEL-01", "1", "7.50", "7.50")]),
        # '|' then ':' in a title: the pairs split, but wrongly (Set: as a key).
        webtoffee_order("6005", "2024-11-08 08:00:00", "processing", jana, hamburg, "4.90",
                        [("Probier|Set: 3 Sorten", "51", "SMP-3", "1", "15.00", "15.00")]),
        webtoffee_order("6006", "2024-11-09 10:00:00", "processing", tom, berlin, "4.90",
                        [("Teetuch", "32", "TOWEL-01", "zwei", "15.00", "15.00")]),  # words
        webtoffee_order("6007", "2024-11-09 11:00:00", "processing", jana, hamburg, "4.90",
                        []),  # an order without an item cell
        webtoffee_order("6008", "2024-11-10 12:00:00", "processing", tom, berlin, "4.90",
                        [("Teetuch", "32", "TOWEL-01", "1", "7.50", "7.50")],
                        fee="2.00"),  # a fee: in order_total, in no line or mapped field
        webtoffee_order("6009", "2024-11-10 13:00:00", "checkout-draft", jana, hamburg,
                        "4.90", [("Teetuch", "32", "TOWEL-01", "1", "7.50", "7.50")]),
    ]
    header = WEBTOFFEE_HEADER
    _target("woocommerce", "order_export_2024-11-12-10-32-15.csv").write_text(
        _quote_all([header, *_rows(header, records)]), encoding="utf-8")


def write_all() -> None:
    write_amazon()
    write_amazon_order_report()
    write_amazon_unshipped()
    write_ebay()
    write_ebay_sales_history()
    write_woocommerce()
    write_woocommerce_aoe()
    write_woocommerce_webtoffee()


if __name__ == "__main__":
    write_all()
