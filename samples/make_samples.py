"""Write the bundled sample exports. Run from the repository root:

    .venv/bin/python samples/make_samples.py

The samples reproduce each platform's export layout and quirks, with a few bad rows of
varied kinds; tests/golden/ holds what ordermill makes of them. Regenerate the goldens
(tests/regen_golden.py) after changing a sample, and review the diff.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import gen_china
import gen_mail
import gen_marketplaces
import gen_tmall_pair
from gen_po import write_po_samples

ROOT = Path(__file__).resolve().parent

TMALL_HEADER = [
    "订单编号", "子订单编号", "买家会员名", "买家支付宝账号", "订单状态", "订单创建时间",
    "订单付款时间", "宝贝标题", "商家编码", "商品属性", "价格", "购买数量", "优惠金额",
    "实付金额", "收货人姓名", "收货地址", "联系手机", "买家留言", "赠品编码", "物流公司",
    "物流单号", "店铺名称", "订单备注",
]


def guard(value: str) -> str:
    """How Tmall keeps long numbers as text for Excel."""
    return f'="{value}"'


def tmall_row(order: str, sub: str, buyer: str, status: str, created: str, paid: str,
              title: str, sku: str, props: str, price: str, qty: str, discount: str,
              total: str, name: str, address: str, phone: str, message: str = "",
              gift: str = "", carrier: str = "", tracking: str = "") -> list[str]:
    return [guard(order), guard(sub), buyer, f"{buyer}@example.cn", status, created, paid,
            title, sku, props, price, qty, discount, total, name, address, phone, message,
            gift, carrier, guard(tracking) if tracking else "", "山河旗舰店", ""]


def tmall_rows() -> list[list[str]]:
    addr1 = "浙江省 杭州市 西湖区 文三路100号华星大厦5楼(310012)"
    addr2 = "上海 上海市 浦东新区 世纪大道88号金茂大厦23层(200120)"
    addr3 = "广东省 深圳市 南山区 科技园南区高新南七道18号(518057)"
    addr4 = "北京 北京市 朝阳区 建国路87号SKP写字楼B座1201"
    ok = "买家已付款，等待卖家发货"
    return [
        tmall_row("3712345678901234567", "3712345678901234568", "小王爱喝茶", ok,
                  "2024-11-11 00:01:02", "2024-11-11 00:01:30", "山河 明前龙井 250g 礼盒装",
                  "LJ-250-GIFT", "净含量:250g;包装:礼盒", "¥1,299.00", "1", "100.00",
                  "1,199.00", "王小明", addr1, "'13812345678",
                  "请周五前发货，谢谢！\n送人用的，不要放发票", "ZP-TEA-CUP"),
        tmall_row("3712345678901234567", "3712345678901234569", "小王爱喝茶", ok,
                  "2024-11-11 00:01:02", "2024-11-11 00:01:30", "山河 白瓷茶杯 单只",
                  "CUP-W-01", "颜色:白色", "39.90", "2", "0.00", "79.80", "王小明", addr1,
                  "'13812345678"),
        tmall_row("0412345678901234501", "0412345678901234502", "tea_lover_88", "交易成功",
                  "2024-11-10 21:15:00", "2024-11-10 21:16:05", "山河 铁观音 500g",
                  "TGY-500", "净含量:500g", "￥268.00", "3", "24.00", "780.00", "李华", addr2,
                  "+86 139-1234-5678", "", "", "顺丰速运", "SF1234567890123"),
        tmall_row("3712345678901239001", "3712345678901239002", "深圳阿强", "卖家已发货，等待买家确认",
                  "2024-11-09 10:00:00", "2024-11-09 10:02:00", "山河 普洱熟茶 357g 饼",
                  "PE-357", "年份:2018", "458.00", "1", "0", "458.00", "张强", addr3,
                  "0755-86001234", "", "ZP-TEA-BAG", "中通快递", "ZT778899001122"),
        tmall_row("3712345678901239100", "3712345678901239101", "北京大爷", "等待买家付款",
                  "2024-11-12 07:45:10", "", "山河 茉莉花茶 100g", "ML-100", "净含量:100g",
                  "59.00", "2", "", "118.00", "赵大爷", addr4, "13700001111"),
        tmall_row("3712345678901239200", "3712345678901239201", "小王爱喝茶", "交易关闭",
                  "2024-11-08 12:00:00", "", "山河 明前龙井 50g 尝鲜装", "LJ-050", "净含量:50g",
                  "69.00", "1", "0.00", "69.00", "王小明", addr1, "13812345678",
                  "拍错了，不要了"),
        tmall_row("3712345678901239300", "3712345678901239301", "茶友9527", "退款成功",
                  "2024-11-07 09:30:00", "2024-11-07 09:31:00", "山河 大红袍 200g",
                  "DHP-200", "净含量:200g", "328.00", "1", "28.00", "300.00", "陈静", addr2,
                  "13911112222"),
        # Bad rows, one kind each:
        tmall_row("3712345678901239400", "3712345678901239401", "坏日期", ok,
                  "2024-11-31 10:00:00", "2024-11-31 10:01:00", "山河 白茶 饼", "BC-350",
                  "", "199.00", "1", "0.00", "199.00", "周一", addr3, "13800002222"),
        tmall_row("3712345678901239500", "3712345678901239501", "价格待定", ok,
                  "2024-11-11 08:00:00", "2024-11-11 08:00:30", "山河 定制礼盒", "GIFT-X",
                  "", "价格待定", "1", "0.00", "0.00", "吴二", addr3, "13800003333"),
        tmall_row("3712345678901239600", "3712345678901239601", "零件数", ok,
                  "2024-11-11 09:00:00", "2024-11-11 09:00:30", "山河 茶针", "TOOL-01", "",
                  "15.00", "0", "0.00", "0.00", "郑三", addr1, "13800004444"),
        tmall_row("3712345678901239700", "3712345678901239701", "算错了", ok,
                  "2024-11-11 10:00:00", "2024-11-11 10:00:30", "山河 茶盘", "TRAY-01", "",
                  "120.00", "2", "10.00", "240.00", "冯四", addr2, "13800005555"),
        tmall_row("3712345678901239800", "3712345678901239801", "奇怪状态", "待处理",
                  "2024-11-11 11:00:00", "2024-11-11 11:00:30", "山河 茶叶罐", "CAN-01", "",
                  "45.00", "1", "0.00", "45.00", "陈五", addr4, "13800006666"),
        tmall_row("3712345678901239900", "3712345678901239901", "号码不全", ok,
                  "2024-11-11 12:00:00", "2024-11-11 12:00:30", "山河 茶巾", "TOWEL-01", "",
                  "9.90", "1", "0.00", "9.90", "褚六", addr3, "138****6666"),
        tmall_row("", "3712345678901240001", "没有订单号", ok, "2024-11-11 13:00:00",
                  "2024-11-11 13:00:30", "山河 茶漏", "FILTER-01", "", "12.00", "1", "0.00",
                  "12.00", "卫七", addr1, "13800007777"),
    ]


def write_tmall() -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["订单导出 店铺：山河旗舰店 导出时间：2024-11-12 08:00:00"])
    writer.writerow(TMALL_HEADER)
    writer.writerows(tmall_rows())
    writer.writerow(["合计：14 条"])
    # An 订单明细 table of one row per item with its order's columns, as a combined
    # (joined) export would be: no seller-centre export is this (they are two files, see
    # gen_tmall_pair), but the tests read it as their GB18030 sample.
    target = ROOT.parent / "tests" / "fixtures" / "tmall-combined.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out.getvalue().encode("gb18030"))


SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2",
    "Billing Company", "Billing City", "Billing Zip", "Billing Province", "Billing Country",
    "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1",
    "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level",
    "Source", "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value",
    "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value",
    "Phone", "Receipt Number",
    "Duties", "Billing Province Name", "Shipping Province Name", "Payment ID",
    "Payment Terms Name", "Next Payment Due At", "Payment References",
]


def shopify_order(name: str, email: str, financial: str, paid_at: str, fulfillment: str,
                  created: str, lines: list[tuple[str, str, str, str, str]],
                  ship: dict[str, str], totals: tuple[str, str, str, str],
                  discount_code: str = "", discount_amount: str = "0.00", notes: str = "",
                  cancelled_at: str = "", order_id: str = "5512345678901") -> list[dict[str, str]]:
    """lines: (quantity, name, price, sku, line discount)."""
    subtotal, shipping, taxes, total = totals
    rows = []
    for index, (qty, item, price, sku, line_discount) in enumerate(lines):
        row = {h: "" for h in SHOPIFY_HEADER}
        row.update({"Lineitem quantity": qty, "Lineitem name": item, "Lineitem price": price,
                    "Lineitem sku": sku, "Lineitem requires shipping": "true",
                    "Lineitem taxable": "true", "Lineitem fulfillment status":
                    "fulfilled" if fulfillment == "fulfilled" else "pending",
                    "Lineitem discount": line_discount, "Name": name, "Vendor": "Hill & Leaf",
                    # repeated on an order's every line in real exports (mappings/README.md)
                    "Email": email, "Created at": created})
        if index == 0:  # order-level columns: first line only, as Shopify writes them
            row.update({
                "Email": email, "Financial Status": financial, "Paid at": paid_at,
                "Fulfillment Status": fulfillment, "Accepts Marketing": "no",
                "Currency": "USD", "Subtotal": subtotal, "Shipping": shipping,
                "Taxes": taxes, "Total": total, "Discount Code": discount_code,
                "Discount Amount": discount_amount, "Shipping Method": "Standard",
                "Created at": created, "Billing Name": ship["name"],
                "Billing Street": ship["street"], "Billing Address1": ship["street"],
                "Billing City": ship["city"], "Billing Zip": ship["zip"],
                "Billing Province": ship["province"], "Billing Country": ship["country"],
                "Billing Phone": ship["phone"], "Shipping Name": ship["name"],
                "Shipping Street": ship["street"], "Shipping Address1": ship["street"],
                "Shipping Address2": ship.get("street2", ""), "Shipping City": ship["city"],
                "Shipping Zip": ship["zip"], "Shipping Province": ship["province"],
                "Shipping Country": ship["country"], "Shipping Phone": ship["phone"],
                "Notes": notes, "Cancelled at": cancelled_at,
                "Payment Method": "Shopify Payments", "Id": order_id, "Risk Level": "Low",
                "Source": "web", "Phone": "",
            })
        rows.append(row)
    return rows


def shopify_rows() -> list[dict[str, str]]:
    boston = {"name": "Alice Walker", "street": "12 Beacon St", "street2": "Apt 4",
              "city": "Boston", "zip": "'02108", "province": "MA", "country": "US",
              "phone": "(617) 555-0142"}
    toronto = {"name": "Bob Tremblay", "street": "200 King St W", "city": "Toronto",
               "zip": "M5H 3T4", "province": "ON", "country": "CA",
               "phone": "+1 416-555-0199"}
    london = {"name": "Chloe Evans", "street": "221B Baker Street", "city": "London",
              "zip": "NW1 6XE", "province": "", "country": "GB", "phone": "+44 20 7946 0958"}
    austin = {"name": "Dan Ortiz", "street": "1100 Congress Ave", "city": "Austin",
              "zip": "78701", "province": "TX", "country": "US", "phone": "512-555-0110"}
    rows: list[dict[str, str]] = []
    rows += shopify_order("#1001", "alice@example.com", "paid", "2024-03-05 14:22:41 -0500",
                          "fulfilled", "2024-03-05 14:22:10 -0500",
                          [("2", "Dragon Well Green Tea - 100g", "18.50", "DW-100", "0.00"),
                           ("1", "Ceramic Gaiwan - White", "32.00", "GW-WHT", "3.20")],
                          boston, ("69.00", "5.00", "4.31", "75.11"), "SPRING10", "3.20",
                          "Please leave at the front desk.\nRing twice.",
                          order_id="5512345678901")
    rows += shopify_order("#1002", "bob@example.ca", "pending", "", "", "2024-03-06 09:05:00 -0500",
                          [("1", "Oolong Sampler", "45.00", "OOL-SMP", "0.00")],
                          toronto, ("45.00", "8.00", "6.89", "59.89"), order_id="5512345678902")
    rows += shopify_order("#1003", "chloe@example.co.uk", "refunded", "2024-03-06 10:00:00 +0000",
                          "fulfilled", "2024-03-06 09:59:30 +0000",
                          [("1", "Pu-erh Cake 357g", "58.00", "PE-357", "0.00")],
                          london, ("58.00", "12.00", "0.00", "70.00"), order_id="5512345678903")
    rows += shopify_order("#1004", "dan@example.com", "paid", "2024-03-07 16:45:12 -0600", "",
                          "2024-03-07 16:44:50 -0600",
                          [("3", "Jasmine Pearls - 50g", "14.00", "JP-050", "0.00"),
                           ("1", "Bamboo Tea Tray", "49.99", "TRAY-BMB", "5.00"),
                           ("2", "Tea Towel", "7.50", "TOWEL-01", "0.00")],
                          austin, ("106.99", "0.00", "8.42", "110.41"), "WELCOME5", "5.00",
                          order_id="5512345678904")
    rows += shopify_order("#1005", "alice@example.com", "voided", "", "",
                          "2024-03-08 08:00:00 -0500",
                          [("1", "Matcha Whisk", "22.00", "MW-01", "0.00")], boston,
                          ("22.00", "5.00", "1.69", "28.69"),
                          cancelled_at="2024-03-08 09:00:00 -0500", order_id="5512345678905")
    # Bad rows, one kind each:
    rows += shopify_order("#1006", "bad-email-at-example.com", "paid",
                          "2024-03-09 10:00:00 -0500", "", "2024-03-09 09:59:00 -0500",
                          [("1", "Oolong Sampler", "45.00", "OOL-SMP", "0.00")], austin,
                          ("45.00", "0.00", "3.71", "48.71"), order_id="5512345678906")
    rows += shopify_order("#1007", "eve@example.com", "paid", "2024-03-10 11:00:00 -0500", "",
                          "March 10 2024 10:58",
                          [("1", "Dragon Well Green Tea - 100g", "18.50", "DW-100", "0.00")],
                          boston, ("18.50", "5.00", "1.53", "25.03"), order_id="5512345678907")
    rows += shopify_order("#1008", "frank@example.com", "paid", "2024-03-10 12:00:00 -0500",
                          "", "2024-03-10 11:59:00 -0500",
                          [("1", "Ceramic Gaiwan - White", "32.00", "GW-WHT", "0.00"),
                           ("-1", "Ceramic Gaiwan - White", "32.00", "GW-WHT", "0.00"),
                           ("2", "Tea Towel", "7.5O", "TOWEL-01", "0.00")],
                          austin, ("32.00", "0.00", "2.64", "34.64"), order_id="5512345678908")
    rows += shopify_order("#1009", "gina@example.com", "on_hold", "", "",
                          "2024-03-11 13:00:00 -0500",
                          [("1", "Matcha Whisk", "22.00", "MW-01", "0.00")],
                          {**boston, "country": "Atlantis"}, ("22.00", "5.00", "1.69", "28.69"),
                          order_id="5512345678909")
    return rows


def write_shopify() -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SHOPIFY_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(shopify_rows())
    target = ROOT / "shopify" / "orders_export_1.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(out.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    write_tmall()
    gen_tmall_pair.write(ROOT / "tmall")
    gen_tmall_pair.write_2021(ROOT / "tmall")
    write_shopify()
    gen_marketplaces.write_all()
    gen_china.write_all()
    gen_mail.write_all()
    write_po_samples()
