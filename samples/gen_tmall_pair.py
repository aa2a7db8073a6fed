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
    folder.mkdir(parents=True, exist_ok=True)
    header = ",".join(_cell(name) for name in ORDER_HEADER)
    order_file = folder / f"ExportOrderList{stamp}.csv"
    order_file.write_bytes(("\r\n".join([header, *orders()]) + "\r\n").encode("gb18030"))
    header = ",".join(_cell(name) for name in ITEM_HEADER)
    item_file = folder / f"ExportOrderDetailList{stamp}.csv"
    item_file.write_bytes(("\r\n".join([header, *items()]) + "\r\n").encode("gb18030"))
    return order_file, item_file
