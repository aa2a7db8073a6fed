"""The Tmall / Taobao two-file export (卖家中心 批量导出): 订单报表 and 宝贝报表.

Headers as the real exports write them (tests/../evidence: the July 2017 rows, layouts
TM-O-2017 and TM-D-10): every cell double-quoted but the ="…"-guarded order numbers, six
order-file header names ending in a space, 联系手机 as '138…, and every item-file data row
ending in a trailing comma; GB18030, CRLF. The rows are invented.
"""

from __future__ import annotations

from pathlib import Path

ORDER_HEADER = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "订单创建时间",
    "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注", "宝贝总数量",
    "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单",
    "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票", "是否代付", "定金排名",
    "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣", "集分宝抵扣", "是否是O2O交易",
    "退款金额", "预约门店",
]
ITEM_HEADER = ["订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息",
               "备注", "订单状态", "商家编码"]

PAID = "买家已付款，等待卖家发货"
HZ = "浙江省 杭州市 西湖区 文三路100号华星大厦5楼(310012)"
SH = "上海 上海市 浦东新区 世纪大道88号金茂大厦23层(200120)"
SZ = "广东省 深圳市 南山区 科技园南区高新南七道18号(518057)"


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _guard(value: str) -> str:
    return f'="{value}"'


def order_row(order: str, buyer: str, goods: str, postage: str, status: str, name: str,
              address: str, phone: str, created: str, paid: str, title: str, kinds: str,
              count: str, message: str = "") -> str:
    total = f"{float(goods) + float(postage):.2f}"
    actual = total if paid else "0.00"
    values = [buyer, f"{buyer}@example.cn", goods, postage, "0", total, "0", actual, "0", status,
              message, name, address, "快递", "", f"'{phone}", created, paid, title, kinds, "",
              "", "", count, "0", "山河旗舰店", "订单未关闭", "0", "0元", "", "手机订单", ""]
    tail = ["否", "否", "否", "", "", "", "", "", "", "", "0.00", ""]
    return ",".join([_guard(order), *map(_cell, values), _guard(""), *map(_cell, tail)])


def item_row(order: str, title: str, price: str, qty: str, sku: str, props: str,
             status: str) -> str:
    values = [title, price, qty, sku, props, "", "", status, sku]
    return ",".join([_guard(order), *map(_cell, values)]) + ","  # the trailing comma


def orders() -> list[str]:
    return [
        order_row("3712345678901234567", "小王爱喝茶", "1378.80", "0.00", PAID, "王小明", HZ,
                  "13812345678", "2024-11-11 00:01:02", "2024-11-11 00:01:30",
                  "山河 明前龙井 250g 礼盒装", "2", "3", "请周五前发货，谢谢！"),
        order_row("0412345678901234501", "tea_lover_88", "780.00", "12.00", "交易成功", "李华", SH,
                  "13912345678", "2024-11-10 21:15:00", "2024-11-10 21:16:05",
                  "山河 铁观音 500g", "1", "3"),
        order_row("3712345678901239100", "北京大爷", "118.00", "0.00", "等待买家付款", "赵大爷",
                  SZ, "13700001111", "2024-11-12 07:45:10", "", "山河 茉莉花茶 100g", "1", "2"),
        # Bad rows, one kind each: a bad date in the order's row (its item is rejected) ...
        order_row("3712345678901239400", "坏日期", "199.00", "0.00", PAID, "周一", SZ,
                  "13800002222", "2024-11-31 10:00:00", "2024-11-31 10:01:00", "山河 白茶 饼",
                  "1", "1"),
        # ... and an order no item row of the 宝贝报表 holds (no-item-rows).
        order_row("3712345678901239500", "没有宝贝", "45.00", "0.00", PAID, "陈五", HZ,
                  "13800006666", "2024-11-11 11:00:00", "2024-11-11 11:00:30", "山河 茶叶罐",
                  "1", "1"),
    ]


def items() -> list[str]:
    return [
        item_row("3712345678901234567", "山河 明前龙井 250g 礼盒装", "1299.00", "1",
                 "LJ-250-GIFT", "净含量：250g;包装：礼盒", PAID),
        item_row("3712345678901234567", "山河 白瓷茶杯 单只", "39.90", "2", "CUP-W-01",
                 "颜色分类：白色", PAID),
        item_row("0412345678901234501", "山河 铁观音 500g", "268.00", "3", "TGY-500",
                 "净含量：500g", "交易成功"),
        item_row("3712345678901239100", "山河 茉莉花茶 100g", "59.00", "2", "ML-100",
                 "净含量：100g", "等待买家付款"),
        item_row("3712345678901239400", "山河 白茶 饼", "199.00", "1", "BC-350", "", PAID),
        # Bad rows: a quantity of 0, and an item whose order is not in the 订单报表.
        item_row("0412345678901234501", "山河 茶针", "15.00", "0", "TOOL-01", "", "交易成功"),
        item_row("3712345678901239900", "山河 茶巾", "9.90", "1", "TOWEL-01", "", PAID),
    ]


def write(folder: Path, stamp: str = "202411120800") -> tuple[Path, Path]:
    """Both files of one export into ``folder``."""
    return _write_pair(folder, stamp, (ORDER_HEADER, orders()), (ITEM_HEADER, items()))


def _write_pair(folder: Path, stamp: str, order_part: tuple[list[str], list[str]],
                item_part: tuple[list[str], list[str]]) -> tuple[Path, Path]:
    """An export's 订单报表 and 宝贝报表 (header names and rows) as the seller centre names
    and writes them: GB18030, CRLF."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (names, rows) in (("ExportOrderList", order_part),
                                ("ExportOrderDetailList", item_part)):
        header = ",".join(_cell(name) for name in names)
        path = folder / f"{kind}{stamp}.csv"
        path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("gb18030"))
        written.append(path)
    return written[0], written[1]


# The 2021+ layout (evidence: TM-O-2021 / TM-O-2022 and TM-D-18): the 订单报表 as in March 2022,
# 71 columns ending in 主订单编号 (the 2021 one has 67: 买家支付宝账号 where 2022 has 买家会员昵称,
# 满返红包金额, and none of 虚拟号过期时间, 延迟发货自动赔付金额, 预售订单, 发货时间, 商家备忘), and
# the 18-column 宝贝报表, one row per sub-order with money per line. No raw 2021+ rows were
# found: the quoting, the ="…" ids (the evidence's importer digs the digits out of 子订单编号,
# 主订单编号 and 支付单号), the six names ending in a space, the item rows' trailing comma,
# '138… phones, "0元", GB18030 and CRLF are written as the 2017 files have them.
ORDER_HEADER_2022 = [
    "订单编号", "买家会员名", "买家会员昵称", "支付单号", "支付详情", "买家应付货款", "买家应付邮费",
    "买家支付积分", "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态",
    "买家留言", "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "虚拟号过期时间",
    "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注",
    "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头",
    "是否手机订单", "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票",
    "是否代付", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易", "新零售交易类型", "新零售导购门店名称", "新零售导购门店id",
    "新零售发货门店名称", "新零售发货门店id", "退款金额", "预约门店", "确认收货时间", "打款商家金额",
    "含应开票给个人的个人红包", "是否信用购", "体验期结束时间", "前N有礼", "配送类型", "直播返现状态",
    "返现金额", "延迟发货自动赔付金额", "新零售成交门店昵称", "新零售成交门店id",
    "新零售成交经销商id", "预售订单", "发货时间", "商家备忘", "主订单编号",
]
# TM-O-2021 (67 columns), as its source lists it (no trailing spaces): for detection tests.
ORDER_HEADER_2021 = [
    "订单编号", "买家会员名", "买家支付宝账号", "支付单号", "支付详情", "买家应付货款", "买家应付邮费",
    "买家支付积分", "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态",
    "买家留言", "收货人姓名", "收货地址", "运送方式", "联系电话", "联系手机", "订单创建时间",
    "订单付款时间", "宝贝标题", "宝贝种类", "物流单号", "物流公司", "订单备注", "宝贝总数量",
    "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单",
    "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票", "是否代付", "定金排名",
    "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣", "集分宝抵扣", "是否是O2O交易",
    "满返红包金额", "新零售交易类型", "新零售导购门店名称", "新零售导购门店id", "新零售发货门店名称",
    "新零售发货门店id", "退款金额", "预约门店", "确认收货时间", "打款商家金额",
    "含应开票给个人的个人红包", "是否信用购", "体验期结束时间", "前N有礼", "配送类型", "直播返现状态",
    "返现金额", "新零售成交门店昵称", "新零售成交门店id", "新零售成交经销商id", "主订单编号",
]
ITEM_HEADER_2021 = [
    "子订单编号", "主订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息",
    "备注", "订单状态", "商家编码", "支付单号", "买家应付货款", "买家实际支付金额", "退款状态",
    "退款金额", "订单创建时间", "订单付款时间",
]
GUARDED_2022 = {"订单编号", "支付单号", "特权订金订单id", "主订单编号"}
GUARDED_ITEMS = {"子订单编号", "主订单编号", "支付单号"}


def _line(header: list[str], values: dict[str, str], guarded: set[str]) -> str:
    return ",".join(_guard(values.get(name, "")) if name in guarded
                    else _cell(values.get(name, "")) for name in header)


def order_row_2022(order: str, buyer: str, goods: str, postage: str, status: str, name: str,
                   address: str, phone: str, created: str, paid: str, title: str, kinds: str,
                   count: str, refund: str = "0.00", message: str = "") -> str:
    total = f"{float(goods) + float(postage):.2f}"
    actual = f"{float(total) - float(refund):.2f}" if paid else "0.00"
    done = status == "交易成功"
    values = {
        "订单编号": order, "买家会员名": buyer, "买家会员昵称": buyer, "支付单号": "2024" + order[-16:] if paid else "",
        "买家应付货款": goods, "买家应付邮费": postage, "买家支付积分": "0", "总金额": total,
        "返点积分": "0", "买家实际支付金额": actual, "买家实际支付积分": "0", "订单状态": status,
        "买家留言": message, "收货人姓名": name, "收货地址 ": address, "运送方式": "快递",
        "联系手机": f"'{phone}", "订单创建时间": created, "订单付款时间 ": paid,
        "宝贝标题 ": title, "宝贝种类 ": kinds, "宝贝总数量": count, "店铺Id": "0",
        "店铺名称": "山河旗舰店", "订单关闭原因": "退款" if status == "交易关闭" and paid
        else "买家未付款" if status == "交易关闭" else "订单未关闭",
        "卖家服务费": "0", "买家服务费": "0元", "是否手机订单": "手机订单",
        "是否上传合同照片": "否", "是否上传小票": "否", "是否代付": "否", "天猫卡券抵扣": "0.00",
        "集分宝抵扣": "0.00", "退款金额": refund, "打款商家金额": f"{total if done else '0.00'}元",
        "是否信用购": "否", "配送类型": "快递", "返现金额": "0.00", "延迟发货自动赔付金额": "0.00",
        "预售订单": "否", "主订单编号": order,
    }
    return _line(ORDER_HEADER_2022, values, GUARDED_2022)


def item_row_2021(sub: str, order: str, title: str, price: str, qty: str, sku: str, props: str,
                  status: str, payable: str, created: str, paid: str, refund: str = "0.00",
                  refund_status: str = "") -> str:
    actual = f"{float(payable) - float(refund):.2f}" if paid else "0.00"
    values = {
        "子订单编号": sub, "主订单编号": order, "标题": title, "价格": price, "购买数量": qty,
        "外部系统编号": sku, "商品属性": props, "订单状态": status, "商家编码": sku,
        "支付单号": "2024" + order[-16:] if paid else "", "买家应付货款": payable,
        "买家实际支付金额": actual, "退款状态": refund_status, "退款金额": refund,
        "订单创建时间": created, "订单付款时间": paid,
    }
    return _line(ITEM_HEADER_2021, values, GUARDED_ITEMS) + ","  # the trailing comma (2017)


SHIPPED = "卖家已发货，等待买家确认"


def orders_2021() -> list[str]:
    t1, p1 = "2024-11-14 20:05:11", "2024-11-14 20:05:40"
    return [
        # three sub-orders, each with its own amount owed
        order_row_2022("2218765432109876543", "茶山小雅", "1308.80", "0.00", PAID, "林小雅", HZ,
                       "13812340001", t1, p1, "山河 明前龙井 250g 礼盒装等多件", "3", "4",
                       message="礼盒请包好"),
        order_row_2022("2218765432109876601", "老茶客_2021", "780.00", "12.00", SHIPPED, "周建国",
                       SH, "13912340002", "2024-11-13 09:00:00", "2024-11-13 09:00:21",
                       "山河 铁观音 500g", "1", "3"),
        order_row_2022("2218765432109876702", "未付款的小李", "118.00", "0.00", "等待买家付款",
                       "李四", SZ, "13712340003", "2024-11-15 08:30:00", "",
                       "山河 茉莉花茶 100g", "1", "2"),
        order_row_2022("2218765432109876803", "退了退了", "300.00", "0.00", "交易关闭", "吴六",
                       SH, "13612340004", "2024-11-10 10:10:10", "2024-11-10 10:10:40",
                       "山河 大红袍 200g", "1", "1", refund="300.00"),
        # Bad rows, one kind each: a bad date (its item is rejected) ...
        order_row_2022("2218765432109876904", "坏日期", "199.00", "0.00", PAID, "郑七", SZ,
                       "13812340005", "2024-11-31 10:00:00", "2024-11-31 10:01:00",
                       "山河 白茶 饼", "1", "1"),
        # ... a price the seller raised above 价格 (the line's discount comes out negative) ...
        order_row_2022("2218765432109877005", "改了价", "55.00", "0.00", PAID, "冯八", HZ,
                       "13812340006", "2024-11-14 11:00:00", "2024-11-14 11:00:30",
                       "山河 茶叶罐", "1", "1"),
        # ... a quantity of 0 ...
        order_row_2022("2218765432109877106", "零件数", "15.00", "0.00", PAID, "陈九", HZ,
                       "13812340007", "2024-11-14 12:00:00", "2024-11-14 12:00:30",
                       "山河 茶针", "1", "1"),
        # ... and an order no item row of the 宝贝报表 holds (no-item-rows).
        order_row_2022("2218765432109877207", "没有宝贝", "45.00", "0.00", PAID, "褚十", SZ,
                       "13812340008", "2024-11-14 13:00:00", "2024-11-14 13:00:30",
                       "山河 茶巾", "1", "1"),
    ]


def items_2021() -> list[str]:
    t1, p1 = "2024-11-14 20:05:11", "2024-11-14 20:05:40"
    one = "2218765432109876543"
    return [
        item_row_2021("2218765432109876544", one, "山河 明前龙井 250g 礼盒装", "1299.00", "1",
                      "LJ-250-GIFT", "净含量：250g;包装：礼盒", PAID, "1199.00", t1, p1),
        item_row_2021("2218765432109876545", one, "山河 白瓷茶杯 单只", "39.90", "2",
                      "CUP-W-01", "颜色分类：白色", PAID, "79.80", t1, p1),
        item_row_2021("2218765432109876546", one, "山河 竹制茶盘", "45.00", "1", "TRAY-B-01",
                      "尺寸：小号", PAID, "30.00", t1, p1),
        item_row_2021("2218765432109876601", "2218765432109876601", "山河 铁观音 500g",
                      "268.00", "3", "TGY-500", "净含量：500g", SHIPPED, "780.00",
                      "2024-11-13 09:00:00", "2024-11-13 09:00:21"),
        item_row_2021("2218765432109876702", "2218765432109876702", "山河 茉莉花茶 100g", "59.00",
                      "2", "ML-100", "净含量：100g", "等待买家付款", "118.00",
                      "2024-11-15 08:30:00", ""),
        item_row_2021("2218765432109876803", "2218765432109876803", "山河 大红袍 200g", "328.00",
                      "1", "DHP-200", "净含量：200g", "交易关闭", "300.00", "2024-11-10 10:10:10",
                      "2024-11-10 10:10:40", refund="300.00", refund_status="退款成功"),
        # Bad rows (see orders_2021), and an item whose order is not in the 订单报表.
        item_row_2021("2218765432109876904", "2218765432109876904", "山河 白茶 饼", "199.00", "1",
                      "BC-350", "", PAID, "199.00", "2024-11-31 10:00:00", "2024-11-31 10:01:00"),
        item_row_2021("2218765432109877005", "2218765432109877005", "山河 茶叶罐", "49.00", "1",
                      "CAN-01", "", PAID, "55.00", "2024-11-14 11:00:00", "2024-11-14 11:00:30"),
        item_row_2021("2218765432109877106", "2218765432109877106", "山河 茶针", "15.00", "0",
                      "TOOL-01", "", PAID, "15.00", "2024-11-14 12:00:00", "2024-11-14 12:00:30"),
        item_row_2021("2218765432109877999", "2218765432109877998", "山河 茶漏", "12.00", "1",
                      "FILTER-01", "", PAID, "12.00", "2024-11-14 14:00:00", "2024-11-14 14:00:30"),
    ]


def write_2021(folder: Path, stamp: str = "202411150930") -> tuple[Path, Path]:
    """Both files of one 2021+ export into ``folder``."""
    return _write_pair(folder, stamp, (ORDER_HEADER_2022, orders_2021()),
                       (ITEM_HEADER_2021, items_2021()))
