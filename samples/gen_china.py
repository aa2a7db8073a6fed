"""Sample exports of the Chinese marketplaces as the evidence shows them (JD, 1688,
Pinduoduo, Douyin shop): one file per export layout, with the layout's header exactly as the
evidence in mappings/README.md gives it (names, order, spacing, full-width characters,
encoding, guards) and rows we wrote ourselves (no real person's data), a few of them
exercising the layout's quirks and a few bad. Called by make_samples.py.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from gen_marketplaces import _rows, _target
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent

JD_2016_HEADER = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额",
    "结算金额", "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名",
    "客户地址", "联系电话", "订单备注", "发票类型", "发票抬头", "发票内容", "商家备注",
    "商家备注等级（等级1-5为由高到低）", "运费金额", "付款确认时间", "增值税发票", "货号",
    "订单完成时间", "订单来源", "订单渠道",
]

JD_2018_HEADER = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额",
    "结算金额", "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名",
    "客户地址", "联系电话", "订单备注", "发票类型", "发票抬头", "发票内容", "商家备注",
    "商家备注等级（等级1-5为由高到低）", "运费金额", "付款确认时间", "增值税发票", "货号",
    "订单完成时间", "订单来源", "订单渠道", "送装服务", "服务费", "仓库id", "仓库名称",
    "普通发票纳税编号", "商家SKUID", "邮箱地址", "邮政编码", "是否为品牌商订单",
    "是否为toplife订单",
]

A1688_49_HEADER = [
    "订单编号", "买家公司名", "买家会员名", "卖家公司名", "卖家会员名", "货品总价(元)",
    "运费(元)", "涨价或折扣(元)", "实付款(元)", "订单状态", "订单创建时间", "订单付款时间",
    "发货方", "收货人姓名", "收货地址", "邮编", "联系电话", "联系手机", "货品标题", "单价(元)",
    "数量", "单位", "货号", "型号", "Offer ID", "SKU ID", "物料编号", "单品货号", "货品种类",
    "买家留言", "物流公司", "运单号", "发票：购货单位名称", "发票：纳税人识别号",
    "发票：地址、电话", "发票：开户行及账号", "发票收取地址", "关联编号", "代理商姓名",
    "代理商联系方式", "是否代发订单", "代发服务商id", "微商订单号", "下单批次号", "下游渠道",
    "下游订单号", "下单公司主体", "发起人登录名",
    "是否发起免密支付(1:淘货源诚e赊免密支付2:批量下单免密支付)",
]

A1688_31_HEADER = [
    "订单编号", "买家公司名", "买家会员名", "卖家公司名", "卖家会员名", "货品总价(元)",
    "运费(元)", "涨价或折扣(元)", "实付款(元)", "订单状态", "订单创建时间", "订单付款时间",
    "发货方", "收货人姓名", "收货地址", "邮编", "联系电话", "联系手机", "货品标题", "单价(元)",
    "数量", "单位", "货号", "型号", "Offer ID", "SKU ID", "物料编号", "单品货号", "货品种类",
    "买家留言", "物流公司运单号",
]

PDD_A_HEADER = [
    "商品", "订单号", "订单状态", "商品总价（元）", "店铺优惠折扣(元)", "平台优惠折扣(元)",
    "邮费(元)", "上门安装费(元)", "送货入户费(元)", "送货入户并安装费(元)", "用户实付金额(元)",
    "商品数量(件)", "身份证姓名", "身份证号码", "收货人", "手机", "是否异常", "省", "市", "区",
    "街道", "支付时间", "拼单成功时间", "订单确认时间", "承诺发货时间", "发货时间",
    "确认收货时间", "商品id", "商品规格", "用户购买手机号", "样式ID", "商家编码-SKU维度",
    "商家编码-商品维度", "快递单号", "快递公司", "海淘清关订单号", "支付ID", "支付方式",
    "是否抽奖或0元试用", "是否顺丰加价", "商家备注", "售后状态", "买家留言", "关联货品编码",
    "货品名称", "货品类型", "子货品", "仓库名称", "仓库所在地址",
]

PDD_B_HEADER = [
    "商品", "订单号", "订单状态", "商品总价(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)",
    "邮费(元)", "上门安装费(元)", "送货入户费(元)", "送货入户并安装费(元)", "用户实付金额(元)",
    "商家实收金额(元)", "商品数量(件)", "是否审核中", "支付时间", "拼单成功时间",
    "订单确认时间", "承诺发货时间", "发货时间", "确认收货时间", "商品id", "商品规格", "样式ID",
    "商家编码-SKU维度", "商家编码-商品维度", "商家备注", "买家留言", "售后状态", "消费者资料",
    "快递单号", "快递公司", "收货人", "手机", "省", "市", "区", "街道", "是否抽奖或0元试用",
    "是否顺丰加价", "用户购买手机号", "旅行类信息", "充值号码", "是否门店自提", "门店名称",
    "门店自定义编码", "关联货品编码", "货品名称", "货品类型", "子货品", "仓库名称",
    "仓库所在地址", "身份证姓名", "身份证号码", "海淘清关订单号", "支付ID", "支付方式",
]

PDD_C_HEADER = [
    "商品", "订单号", "订单状态", "商品数量(件)", "是否审核中", "支付时间", "承诺发货时间",
    "承诺送达时间", "发货时间", "确认收货时间", "商品id", "商品规格", "样式ID", "商品一级类目",
    "商品二级类目", "商品三级类目", "商品四级类目", "商家编码-规格维度", "商家编码-商品维度",
    "商家备注", "买家留言", "售后状态", "消费者资料", "订单成交时间", "消费者资料上传时间",
    "赠品名称", "赠品id", "赠品规格", "赠品数量", "团ID", "团身份", "是否已开始配送",
    "配送员是否已送达", "配送状态", "同城是否普通快递", "商品总价(元)", "邮费(元)",
    "店铺优惠折扣(元)", "平台优惠折扣(元)", "多多支付立减金额(元)", "上门安装费(元)",
    "送货入户费(元)", "送货入户并安装费(元)", "用户实付金额(元)", "商家实收金额(元)",
    "快递单号", "快递公司", "省", "市", "区", "街道/镇", "配送员手机号", "是否抽奖或0元试用",
    "是否顺丰加价", "用户购买手机号", "旅行类信息", "充值号码", "是否门店自提", "门店名称",
    "门店自定义编码", "关联货品编码", "货品名称", "货品类型", "子货品", "仓库名称",
    "仓库所在地址", "海淘清关订单号", "支付ID", "支付方式", "保税仓", "是否直播间成交",
    "是否直播间引导成交", "预约配送时间", "是否节能补贴", "是否分期", "分期期数",
    "手续费承担方", "是否无痕发货", "订单来源", "是否社区团购", "小区送达情况", "分期方式",
]

PDD_D_HEADER = [
    "订单成交时间", "商品", "订单号", "订单状态", "商品总价(元)", "邮费(元)",
    "店铺优惠折扣(元)", "平台优惠折扣(元)", "多多支付立减金额(元)", "用户实付金额(元)",
    "商家实收金额(元)", "商品数量(件)", "发货时间", "确认收货时间", "商品id", "商品规格",
    "样式ID", "商家编码-规格维度", "商家编码-商品维度", "商家备注", "售后状态", "快递单号",
    "快递公司",
]

DY_B_HEADER = [
    "主订单编号", "子订单编号", "选购商品", "商品规格", "商品数量", "商品ID", "商家编码",
    "商品单价", "订单应付金额", "运费", "优惠总金额", "平台优惠", "商家优惠", "达人优惠",
    "商家改价", "支付优惠", "红包抵扣", "支付方式", "手续费", "收件人", "收件人手机号", "省",
    "市", "区", "街道", "详细地址", "是否修改过地址", "买家留言", "订单提交时间", "旗帜颜色",
    "商家备注", "订单完成时间", "支付完成时间", "APP渠道", "流量来源", "订单状态",
    "承诺发货时间", "订单类型", "鲁班落地页ID", "达人ID", "达人昵称", "所属门店ID", "售后状态",
    "取消原因", "预约发货时间", "仓库ID", "仓库名称", "是否安心购", "广告渠道", "流量类型",
    "流量体裁", "流量渠道", "发货主体", "发货主体明细", "发货时间", "降价类优惠",
    "平台实际承担优惠金额", "商家实际承担优惠金额", "达人实际承担优惠金额", "预计送达时间",
    "是否平台仓自流转", "车型", "预约送达时间", "建议发货时间（起）", "建议发货时间（止）",
]

DY_C_HEADER = [
    "主订单编号", "子订单编号", "支付方式", "选购商品", "货号", "商品ID", "商家编码",
    "商品数量", "商品金额", "订单提交时间", "支付完成时间", "订单完成时间", "承诺发货时间",
    "预约发货时间", "买家留言", "旗帜颜色", "商家备注", "APP渠道", "订单状态", "取消原因",
    "售后状态", "订单类型", "发货时间", "车型", "是否是以旧换新", "换新额外补贴",
    "换新额外补贴发放状态", "订单应付金额", "运费", "优惠总金额", "平台优惠", "商家优惠",
    "达人优惠", "商家改价", "支付优惠", "手续费", "红包抵扣", "降价类优惠",
    "平台实际承担优惠金额", "商家实际承担优惠金额", "达人实际承担优惠金额", "收件人",
    "收件人手机号", "省", "市", "区", "街道", "详细地址", "是否修改过地址", "快递信息",
    "序列号", "达人ID", "达人昵称", "拼团订单团编号", "商品单价是否含税", "税费",
    "鲁班落地页ID", "所属门店ID", "流量来源", "仓库ID", "仓库名称", "是否安心购", "广告渠道",
    "流量类型", "流量体裁", "流量渠道", "发货主体", "发货主体明细", "教育优惠", "预计送达时间",
    "是否平台仓自流转", "是否是渠道商品", "预约送达时间", "建议发货时间（起）",
    "建议发货时间（止）",
]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _quoted(rows: list[list[str]], text: set[int], tab: set[int] | None = None) -> str:
    """A CSV whose text cells (the columns ``text``) are double-quoted and numbers are not,
    as JD and 抖店 write them; cells of the columns ``tab`` start with a TAB inside the quotes
    (抖店's guard against scientific notation), except the empty marker ``-``."""
    lines = []
    for n, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            if n and tab and i in tab and cell not in ("", "-"):
                cell = "\t" + cell
            if n == 0 or (i in text and cell not in ("", "-")) or "," in cell or '"' in cell:
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def _cents(amount: str) -> int:
    whole, _, frac = amount.replace(",", "").partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# 京东 POP 订单导出. JD-2016: 30 names and a trailing comma after the last field of every line
# (the header's too), GB18030; text cells holding a space double-quoted, numbers bare. One row
# per SKU with the order's columns (订单金额, 结算金额, 应付金额, 运费金额 ...) repeated.

def jd_order(order: str, created: str, paid: str, status: str, account: str, name: str,
             address: str, phone: str, freight: str, lines: list[tuple[str, str, str, str, str]],
             paid_off: str = "0.00", remark: str = "", done: str = "",
             extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    """lines: (商品ID, 商品名称, 订购数量, 京东价, 货号); 订单金额 = Σ 京东价 x 订购数量,
    应付金额 = 订单金额 − paid_off + 运费金额."""
    goods = sum(int(q) * _cents(p) for _, _, q, p, _ in lines
                if q.strip().isdigit() and p.replace(",", "").replace(".", "", 1).isdigit())
    payable = _yuan(goods - _cents(paid_off) + _cents(freight))
    return [{
        "订单号": order, "商品ID": sku_id, "商品名称": title, "订购数量": qty,
        "支付方式": "在线支付", "下单时间": created, "京东价": price, "订单金额": _yuan(goods),
        "结算金额": payable, "余额支付": "0.00", "应付金额": payable, "订单状态": status,
        "订单类型": "销售订单", "下单帐号": account, "客户姓名": name, "客户地址": address,
        "联系电话": phone, "发票类型": "普通发票", "发票抬头": "个人", "发票内容": "明细",
        "商家备注": remark, "运费金额": freight, "付款确认时间": paid, "货号": goods_no,
        "订单完成时间": done, "订单来源": "移动端订单", "订单渠道": "暂无来源", **(extra or {}),
    } for sku_id, title, qty, price, goods_no in lines]


DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # written bare, space and all


def write_jd_2016() -> None:
    bj = "北京朝阳区建国路87号SKP写字楼B座1201"
    gz = "广东广州市天河区珠江新城花城大道85号"
    sh = "上海浦东新区陆家嘴世纪大道88号"
    tea = ("2000000001", "山河 明前龙井 250g", "2", "50.00", "LJ-250")
    cup = ("2000000002", "山河 白瓷茶杯 单只", "1", "30.00", "")
    records: list[dict[str, str]] = []
    records += jd_order("10000000001", "2016-03-01 10:00:00", "2016-03-01 10:00:10", "等待出库",
                        "user_x", "李四", bj, "13700000000", "0.00", [tea, cup],
                        paid_off="10.00")
    # The parent of a split order: deleted, its lines live on in the two child orders.
    records += jd_order("10000000002", "2016-03-01 11:00:00", "2016-03-01 11:00:30",
                        "(删除)等待出库", "jd_wangxm", "王小明", sh, "13800138000", "0.00",
                        [("2000000003", "山河 铁观音 500g", "1", "268.00", "TGY-500")],
                        remark="订单拆分为  10000000003    10000000004")
    records += jd_order("10000000005", "2016-03-02 09:30:00", "2016-03-02 09:31:12",
                        " 等待确认收货", "gz_chayou", "陈静", gz, "13912345678", "6.00",
                        [("2000000004", "山河 普洱熟茶 357g 饼", "1", "458.00", "PE-357")])
    records += jd_order("10000000006", "2016-03-02 12:00:00", "2016-03-02 12:00:40",
                        "(锁定)等待出库", "jd_lihua88", "李华", bj, "010-65529988", "0.00",
                        [("2000000005", "山河 茉莉花茶 100g", "3", "29.90", "ML-100")])
    records += jd_order("10000000007", "2016-02-28 20:11:45", "2016-02-28 20:12:03", "完成",
                        "jd_lihua88", "李华", bj, "010-65529988", "0.00",
                        [("2000000006", "山河 白茶 饼", "1", "199.00", "BC-350")],
                        done="2016-03-02 18:20:00")
    records += jd_order("10000000008", "2016-03-02 07:45:10", "", "等待付款", "bj_daye",
                        "赵大爷", bj, "13700001111", "6.00",
                        [("2000000007", "山河 茶针", "2", "15.00", "TOOL-01")])
    # Bad rows, one kind each:
    records += jd_order("10000000009", "2016-03-02 08:00:00", "2016-03-02 08:00:30", "锁定",
                        "jd_wuer", "吴二", gz, "13800003333", "0.00",
                        [("2000000008", "山河 茶叶罐", "1", "45.00", "CAN-01")])  # no status
    records += jd_order("10000000010", "2016-03-02 08:10:00", "2016-03-02 08:10:30", "等待出库",
                        "jd_zhouyi", "周一", sh, "13800002222", "0.00",
                        [("2000000009", "山河 定制礼盒", "1", "暂无报价", "GIFT-X")])  # text
    records += jd_order("10000000011", "2016-02-30 10:00:00", "2016-02-30 10:01:00", "等待出库",
                        "jd_chuliu", "褚六", gz, "13800008000", "0.00",
                        [("2000000010", "山河 茶巾", "1", "9.90", "TOWEL-01")])  # 30 February
    header = [*JD_2016_HEADER, ""]  # the trailing comma
    rows = [header, *[[*r, ""] for r in _rows(JD_2016_HEADER, records)]]
    spaced = {i for i, _ in enumerate(header)}
    lines = [",".join(f'"{c}"' if n and i in spaced and " " in c and not DATE.match(c) else c
                      for i, c in enumerate(row)) for n, row in enumerate(rows)]
    _target("jd", "订单导出_2016_20160302.csv").write_bytes(
        ("\r\n".join(lines) + "\r\n").encode("gb18030"))


def write_jd_2018() -> None:
    """JD-2018: 40 names, GB18030, cells quoted where they need it; amounts with thousands
    separators ("1,170.00"), cells padded with a TAB (as JD's later exports write them)."""
    bj = "北京海淀区中关村大街27号"
    sz = "广东深圳市南山区科技园南区高新南七道18号"
    extra = {"仓库id": "\t10", "仓库名称": "北京仓", "是否为品牌商订单": "否",
             "是否为toplife订单": "否", "邮箱地址": "", "邮政编码": ""}
    records: list[dict[str, str]] = []
    two = jd_order("80000000001", "2018-06-18 00:00:05", "2018-06-18 00:00:31", "等待出库",
                   "jd_mali", "马丽", bj, "13812345678", "0.00",
                   [("\t5000000001", "山河 紫砂壶 西施 200ml", "1", "1,099.00", "ZS-200"),
                    ("\t5000000002", "山河 茶则", "\t2", "35.50", "")],
                   paid_off="70.00", extra={**extra, "邮政编码": "100080"})
    two[0]["商家SKUID"] = "SKU-ZS-200"
    for row in two:
        row["订单金额"] = "1,170.00"  # Σ 京东价 x 订购数量, written with a thousands separator
        row["结算金额"] = row["应付金额"] = "1,100.00"
    records += two
    records += jd_order("80000000002", "2018-06-17 21:00:00", "2018-06-17 21:00:40", "完成",
                        "jd_huanglei", "黄磊", sz, "138****5678", "8.00",
                        [("\t5000000003", "山河 铁观音 500g", "1", "268.00", "TGY-500")],
                        done="2018-06-20 10:00:00", extra=extra)  # masked phone: a warning
    records += jd_order("80000000003", "2018-06-16 12:00:00", "2018-06-16 12:00:30",
                        "(删除)等待确认收货", "jd_shenteng", "沈腾", bj, "13712345678", "0.00",
                        [("\t5000000004", "山河 普洱 小青柑", "2", "89.00", "XQG-10")],
                        extra={**extra, "邮箱地址": "shenteng@example.com"})
    records += jd_order("80000000004", "2018-06-18 09:00:00", "2018-06-18 09:00:20",
                        "等待确认收货", "jd_jialing", "贾玲", sz, "13912340000", "0.00",
                        [("\t5000000005", "山河 茶盘 竹制", "1", "120.00", "TRAY-01")],
                        extra=extra)
    # Bad rows, one kind each:
    records += jd_order("80000000005", "2018-06-18 10:00:00", "2018-06-18 10:00:30",
                        "等待出库", "jd_yangdi", "杨迪", bj, "13712340003", "0.00",
                        [("\t5000000006", "山河 茶叶罐", "\t0", "45.00", "CAN-01")],
                        extra=extra)  # quantity 0
    records += jd_order("80000000006", "2018-06-18 11:00:00", "2018-06-18 11:00:30",
                        "等待出库", "jd_yueyp", "岳云鹏", sz, "13712340004", "0.00",
                        [("\t5000000007", "山河 茶漏", "1", "12.345", "FILTER-01")],
                        extra=extra)  # three decimals
    records += jd_order("80000000007", "2018-06-31 12:00:00", "2018-06-31 12:00:30",
                        "等待出库", "jd_sunyue", "孙越", bj, "13712340005", "0.00",
                        [("\t5000000008", "山河 茶巾", "1", "9.90", "TOWEL-01")],
                        extra=extra)  # 31 June
    _target("jd", "订单导出_2018_20180618.csv").write_bytes(
        _csv([JD_2018_HEADER, *_rows(JD_2018_HEADER, records)]).encode("gb18030"))


# 1688 order export (xlsx): one row per goods line; the order's cells (订单编号 ... 联系手机,
# 货品种类 ... 运单号) merged down over its item rows, as the export shows them; 19-digit order
# numbers and ids as text; prices and quantities as numbers, now and then text ("1,280.00").

A1688_ITEM = ["货品标题", "单价(元)", "数量", "单位", "货号", "型号", "Offer ID", "SKU ID",
              "物料编号", "单品货号"]


def a1688_order(order: str, company: str, member: str, status: str, created: str, paid: str,
                name: str, address: str, postcode: str, mobile: str, freight: float,
                adjust: float, items: list[tuple[str, float | str, int | str, str, str, str]],
                message: str = "", carrier: str = "", waybill: str = "") -> list[dict[str, object]]:
    """items: (货品标题, 单价(元), 数量, 单位, 货号, 型号)."""
    goods = round(sum(p * q for _, p, q, *_ in items
                      if isinstance(p, float) and isinstance(q, int)), 2)
    head: dict[str, object] = {
        "订单编号": order, "买家公司名": company, "买家会员名": member,
        "卖家公司名": "山河茶业（杭州）有限公司", "卖家会员名": "shanhe_tea", "货品总价(元)": goods,
        "运费(元)": freight, "涨价或折扣(元)": adjust,
        "实付款(元)": round(goods + freight + adjust, 2), "订单状态": status,
        "订单创建时间": created, "订单付款时间": paid, "发货方": "山河茶业", "收货人姓名": name,
        "收货地址": address, "邮编": postcode, "联系电话": "", "联系手机": mobile,
        "货品种类": len(items), "买家留言": message, "物流公司": carrier, "运单号": waybill,
        "物流公司运单号": f"{carrier} {waybill}".strip(), "是否代发订单": "否",
    }
    rows = []
    for i, (title, price, qty, unit, goods_no, spec) in enumerate(items):
        item = dict(zip(A1688_ITEM, [title, price, qty, unit, goods_no, spec,
                                     f"6100000{i:05d}", f"51000000{i:05d}" if spec else "", "",
                                     ""], strict=True))
        rows.append({**(head if i == 0 else {}), **item})
    return rows


def _a1688_orders() -> list[list[dict[str, object]]]:
    hz = "浙江省 杭州市 西湖区 文三路100号华星大厦5楼"
    sz = "广东省 深圳市 南山区 科技园南区高新南七道18号"
    cd = "四川省 成都市 武侯区 天府大道北段1700号"
    wait = "等待卖家发货"
    return [
        a1688_order("2198765432101234567", "杭州茶语贸易有限公司", "tea_yu_hz", wait,
                    "2025-11-05 09:30:15", "2025-11-05 09:32:40", "林晓", hz, "310012",
                    "13812345678", 15.0, -20.0,
                    [("山河 明前龙井 散装 500g", 168.0, 10, "袋", "LJ-500", "2025新茶"),
                     ("山河 白瓷茶杯 单只", 12.5, 100, "只", "CUP-W-01", "白色"),
                     ("山河 牛皮纸茶叶袋 250g", 0.8, 500, "个", "BAG-K-250", "")],
                    message="发德邦物流，周一前到，谢谢"),
        a1688_order("2198765432101234600", "", "zhang_qiang88", "交易成功",
                    "2025-11-01 14:00:00", "2025-11-01 14:05:21", "张强", sz, "518057",
                    "13900001111", 0.0, 0.0,
                    [("山河 普洱熟茶 357g 饼", 98.0, 20, "饼", "PE-357", "2018年"),
                     ("山河 紫砂壶 西施", "1,280.00", 1, "把", "ZS-200", "")],
                    carrier="顺丰速运", waybill="SF1400012345678"),  # a person: no company
        a1688_order("2198765432101234700", "成都蜀香茶行", "shuxiang_cd", "等待买家付款",
                    "2025-11-06 10:00:00", "", "何川", cd, "610041", "13912345670", 20.0, 0.0,
                    [("山河 茉莉花茶 散装 500g", 45.0, 30, "袋", "ML-500", "")]),
        a1688_order("2198765432101234800", "杭州茶语贸易有限公司", "tea_yu_hz", "交易关闭",
                    "2025-11-02 08:00:00", "", "林晓", hz, "310012", "13812345678", 0.0, 0.0,
                    [("山河 大红袍 散装 500g", 210.0, 5, "袋", "DHP-500", "")]),
        a1688_order("2198765432101234900", "深圳市南山茶馆", "nanshan_tea", "等待买家收货",
                    "2025-11-03 16:20:00", "2025-11-03 16:21:00", "张强", sz, "518057",
                    "+86 139-2233-4455", 12.0, 0.0,
                    [("山河 铁观音 散装 500g", 120.0, 8, "袋", "TGY-500", "")],
                    carrier="德邦物流", waybill="DPK300012345678"),
        # Bad rows, one kind each:
        a1688_order("2198765432101235000", "成都蜀香茶行", "shuxiang_cd", wait,
                    "2025-11-06 11:00:00", "2025-11-06 11:02:00", "何川", cd, "610041",
                    "13912345670", 0.0, 0.0,
                    [("山河 茶盘", 60.0, "两箱", "箱", "TRAY-01", "")]),  # quantity in words
        a1688_order("2198765432101235100", "杭州茶语贸易有限公司", "tea_yu_hz", wait,
                    "2025-11-07 10:00:00", "2025-11-07 09:00:00", "林晓", hz, "310012",
                    "13812345678", 0.0, 0.0,
                    [("山河 茶巾", 3.5, 50, "条", "TOWEL-01", "")]),  # paid before ordered
        a1688_order("2198765432101235300", "成都蜀香茶行", "shuxiang_cd", wait,
                    "2025-11-07 12:00:00", "2025-11-07 12:01:00", "何川", cd, "610041",
                    "13912345670", 0.0, 0.0,
                    [("山河 茶漏", "2.345", 100, "个", "FILTER-01", "")]),  # 3 decimals
    ]


def _write_1688(header: list[str], orders: list[list[dict[str, object]]], name: str) -> None:
    merged = [i + 1 for i, h in enumerate(header)
              if i < header.index("货品标题") or h in ("货品种类", "买家留言", "物流公司", "运单号",
                                                         "物流公司运单号")]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(header)
    for rows in orders:
        top = sheet.max_row + 1
        for row in rows:
            sheet.append([row.get(h) for h in header])
        if len(rows) > 1:  # the order's cells merged down over its item rows
            for col in merged:
                sheet.merge_cells(start_row=top, start_column=col,
                                  end_row=top + len(rows) - 1, end_column=col)
    book.save(_target("1688", name))


def write_1688() -> None:
    orders = _a1688_orders()
    _write_1688(A1688_49_HEADER, orders, "历史订单_2025-11-08.xlsx")
    core = [[{k: (str(v).replace("21987654321", "21987654322") if k == "订单编号" else v)
              for k, v in row.items() if k in A1688_31_HEADER} for row in order]
            for order in orders[:3] + orders[5:]]  # other orders (order numbers) than above
    _write_1688(A1688_31_HEADER, core, "订单导出_31列.xlsx")


# 拼多多 商家后台 订单导出: one row per order (one goods per order), no unit price (商品总价 is
# the goods total for 商品数量), empty cells and values padded with a TAB (2020).

def pdd(order: str, status: str, goods: str, total: str, qty: str, shop_off: str,
        platform_off: str, freight: str, when: str, sku: str, spec: str = "默认",
        after_sale: str = "无售后或售后取消", name: str = "", phone: str = "",
        place: tuple[str, str, str, str] = ("", "", "", ""), message: str = "",
        tracking: str = "") -> dict[str, str]:
    amounts = (total, shop_off, platform_off, freight)
    ok = all(a.replace(",", "").replace(".", "", 1).isdigit() for a in amounts)
    paid = (_yuan(_cents(total) + _cents(freight) - _cents(shop_off) - _cents(platform_off))
            if ok else "")
    province, city, district, street = place
    return {
        "商品": goods, "订单号": order, "订单状态": status, "商品总价(元)": total,
        "商品总价（元）": total, "店铺优惠折扣(元)": shop_off, "平台优惠折扣(元)": platform_off,
        "多多支付立减金额(元)": "0.00", "邮费(元)": freight, "用户实付金额(元)": paid,
        "商家实收金额(元)": _yuan(_cents(paid) + _cents(platform_off)) if paid else "",
        "商品数量(件)": qty, "收货人": name, "手机": phone, "是否异常": "否", "是否审核中": "否",
        "省": province, "市": city, "区": district, "街道": street, "街道/镇": street,
        "支付时间": when, "拼单成功时间": when, "订单成交时间": when, "订单确认时间": when,
        "商品id": "4567890123", "商品规格": spec, "样式ID": "123456789012",
        "商家编码-SKU维度": sku, "商家编码-规格维度": sku, "商家编码-商品维度": sku.split("-")[0],
        "售后状态": after_sale, "买家留言": message, "快递单号": tracking,
        "快递公司": "中通快递" if tracking else "", "支付方式": "微信支付",
    }


def _pdd_records(year: str) -> list[dict[str, str]]:
    zj = ("浙江省", "杭州市", "余杭区", "五常街道文一西路969号")
    hn = ("河南省", "郑州市", "金水区", "花园路街道农业路72号")
    y = year[2:]
    return [
        pdd(f"{y}1111-093456789012345", "待发货", "山河 明前龙井 100g 袋装", "59.80", "2", "5.00",
            "3.00", "0.00", f"{year}-11-11 09:34:56", "LJ-100-A", "100g*2袋", name="王芳",
            phone="13812345678", place=zj, message="快点发货哦"),
        pdd(f"{y}1110-203456789012346", "已发货，待签收", "山河 铁观音 250g", "68.00", "1", "0.00",
            "5.00", "0.00", f"{year}-11-10 20:34:56", "TGY-250-A", "250g", name="刘洋",
            phone="159****2345", place=hn, tracking="73512345678901"),
        pdd(f"{y}1109-113456789012347", "已收货", "山河 紫砂壶 西施", "1,299.00", "1", "0.00",
            "0.00", "0.00", f"{year}-11-09 11:34:56", "ZS-200-A", "200ml", name="赵敏",
            phone="13512345678", place=zj, tracking="73512345678902"),
        pdd(f"{y}1108-103456789012349", "已签收，退款成功", "山河 大红袍 100g", "45.00", "1",
            "2.00", "0.00", "0.00", f"{year}-11-08 10:34:56", "DHP-100-A", "100g", name="周杰",
            phone="13712345678", place=hn, after_sale="退款成功", tracking="73512345678903"),
        pdd(f"{y}1111-143456789012350", "已取消", "山河 普洱 小青柑 10颗", "89.70", "3", "9.00",
            "0.00", "3.00", f"{year}-11-11 14:34:56", "XQG-010-A", "10颗*3盒", name="吴昊",
            phone="+86 138-0013-8000", place=zj),
        # Bad rows, one kind each:
        pdd(f"{y}1111-153456789012351", "待发货", "山河 茶包 组合装", "10.00", "3", "0.00", "0.00",
            "0.00", f"{year}-11-11 15:34:56", "TB-MIX-A", "3盒", name="郑爽",
            phone="13812340000", place=zj),  # 10.00 for 3: no unit price to the cent
        pdd(f"{y}1111-163456789012352", "待发货", "山河 茶杯", "19.90", "1", "0.00", "0.00", "0.00",
            f"{year}-11-11 25:10:00", "CUP-A", "白色", name="钱多", phone="13812340001",
            place=hn),  # hour 25
        pdd(f"{y}1111-173456789012353", "待发货", "", "25.00", "1", "0.00", "0.00", "0.00",
            f"{year}-11-11 17:34:56", "", "", name="陈红", phone="13812340003",
            place=zj),  # no product: neither title nor code
        pdd(f"{y}1111-183456789012354", "待发货", "山河 茶巾 灰色", "24.00", "2", "0.00", "0.00",
            "0.00", f"{year}-11-11 18:34:56", "TOWEL-A", "灰色", name="褚健",
            phone="13812340004", place=hn),
    ]


def _tabbed(records: list[dict[str, str]], header: list[str]) -> list[list[str]]:
    """The 2020 export's TAB padding: a TAB for an empty date, before 商品数量 and codes."""
    rows = []
    for row in _rows(header, records):
        rows.append([("\t" if not cell and "时间" in h else
                      f"\t{cell}" if cell and h in ("商品数量(件)", "商家编码-SKU维度", "快递单号")
                      else cell) for h, cell in zip(header, row, strict=True)])
    return rows


def write_pinduoduo() -> None:
    # pre-2020: the reconciliation workbook's order sheet; 商品总价（元） full-width.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "拼多多订单明细"
    sheet.append(PDD_A_HEADER)
    for row in _rows(PDD_A_HEADER, [{k: v for k, v in r.items() if k in PDD_A_HEADER}
                                    for r in _pdd_records("2019")]):
        sheet.append(row)
    book.save(_target("pinduoduo", "拼多多订单明细_2019.xlsx"))
    # 2020: CSV, UTF-8, TAB-padded cells.
    b = [{k: v for k, v in r.items() if k in PDD_B_HEADER} for r in _pdd_records("2020")]
    _target("pinduoduo", "orders_export_2020.csv").write_text(
        _csv([PDD_B_HEADER, *_tabbed(b, PDD_B_HEADER)]), encoding="utf-8")
    # 2023: CSV, UTF-8 with BOM; no recipient name or phone any more.
    c = [{k: v for k, v in r.items() if k in PDD_C_HEADER} for r in _pdd_records("2023")]
    _target("pinduoduo", "orders_export_2023.csv").write_bytes(
        b"\xef\xbb\xbf" + _csv([PDD_C_HEADER, *_rows(PDD_C_HEADER, c)]).encode("utf-8"))
    # 2026: the 23-column 订单明细 workbook, a line of explanation above the header.
    d = [{k: v for k, v in r.items() if k in PDD_D_HEADER} for r in _pdd_records("2026")]
    d[2]["订单成交时间"] = ""  # as in real files: no time; the row is rejected
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "订单明细"
    sheet.append(["名称：订单明细导出，金额单位：元"])
    sheet.append(PDD_D_HEADER)
    for row in _rows(PDD_D_HEADER, d):
        sheet.append(row)
    book.save(_target("pinduoduo", "订单明细-pdd_2026.xlsx"))


# 抖店 订单导出: CSV, UTF-8 with BOM, one row per 子订单 with the order's columns repeated;
# IDs and text cells double-quoted with a TAB inside ("\t6923…"), numbers bare, `-` for an
# empty cell; 收件人, 收件人手机号 and 详细地址 encrypted by the platform (##…, $$…).

def douyin_order(order: str, status: str, created: str, paid: str, freight: str,
                 items: list[tuple[str, str, str, str, str, str]], after_sale: str = "-",
                 message: str = "-", plain: tuple[str, str, str] | None = None,
                 ) -> list[dict[str, str]]:
    """items: (选购商品, 商品规格, 商品数量, 商家编码, 商品单价, 商家优惠); 商家优惠 may be
    written "<promotion>-<amount>"."""
    name, phone, detail = plain or ("##密文", "$$密文", "##密文")
    rows = []
    for i, (title, spec, qty, sku, price, seller_off) in enumerate(items, start=1):
        off = seller_off.rpartition("-")[2] or "0.00"
        goods = int(qty) * _cents(price) if qty.isdigit() and price[:1].isdigit() else 0
        rows.append({
            "主订单编号": order, "子订单编号": order if len(items) == 1 else f"{order[:-2]}{i:02d}",
            "选购商品": title, "商品规格": spec, "商品数量": qty, "商品ID": "3612345678901234567",
            "商家编码": sku, "货号": sku, "商品单价": price, "商品金额": _yuan(goods),
            "订单应付金额": _yuan(goods + _cents(freight) - _cents(off)), "运费": freight,
            "优惠总金额": off, "平台优惠": "-", "商家优惠": seller_off, "达人优惠": "0.00",
            "支付方式": "抖音支付", "手续费": "0.00", "收件人": name, "收件人手机号": phone,
            "省": "广东省", "市": "深圳市", "区": "南山区", "街道": "粤海街道", "详细地址": detail,
            "是否修改过地址": "否", "买家留言": message, "订单提交时间": created,
            "支付完成时间": paid, "订单完成时间": "-", "订单状态": status, "售后状态": after_sale,
            "快递信息": "-" if status in ("待发货", "已关闭") else "SF1400012345678-顺丰速运",
            "流量来源": "直播",
        })
    return rows


def _douyin_records() -> list[dict[str, str]]:
    r: list[dict[str, str]] = []
    r += douyin_order("6923456789012345601", "待发货", "2025-11-11 20:01:02",
                      "2025-11-11 20:01:30", "0.00",
                      [("山河 明前龙井 直播专享 250g", "250g", "1", "LJ-250-LIVE", "199.00",
                        "直播间满减-20.00"),
                       ("山河 白瓷茶杯 单只", "白色", "2", "CUP-W-01", "39.90", "-")],
                      message="直播间说送茶杯的")
    r += douyin_order("6923456789012345701", "已发货", "2025-11-10 19:30:00",
                      "2025-11-10 19:30:21", "8.00",
                      [("山河 铁观音 500g", "500g", "1", "TGY-500", "1,268.00", "10.00")])
    r += douyin_order("6923456789012345801", "已完成", "2025-11-05 12:00:00",
                      "2025-11-05 12:00:40", "0.00",
                      [("山河 普洱熟茶 357g 饼", "2018年", "2", "PE-357", "458.00", "0.00")],
                      after_sale="退款成功")
    r += douyin_order("6923456789012345901", "已关闭", "2025-11-08 08:00:00", "-", "0.00",
                      [("山河 茉莉花茶 100g", "100g", "1", "ML-100", "59.00", "0.00")],
                      plain=("马丽", "13812345678", "科技园南区高新南七道18号"))
    # Bad rows, one kind each:
    r += douyin_order("6923456789012346301", "待发货", "2025-13-11 22:20:00",
                      "2025-13-11 22:20:30", "0.00",
                      [("山河 茶盘", "竹制", "1", "TRAY-01", "120.00", "0.00")])  # month 13
    r += douyin_order("6923456789012346401", "待发货", "2025-11-11 22:30:00",
                      "2025-11-11 22:30:30", "0.00",
                      [("山河 茶叶罐", "-", "0", "CAN-01", "45.00", "0.00")])  # quantity 0
    r += douyin_order("6923456789012346601", "待发货", "2025-11-11 23:10:00",
                      "2025-11-11 23:10:30", "0.00",
                      [("", "-", "1", "", "15.00", "0.00")])  # no product
    return r


def write_douyin() -> None:
    text_b = {i for i, h in enumerate(DY_B_HEADER) if h not in NUMBERS}
    tab_b = {DY_B_HEADER.index(h) for h in ("主订单编号", "子订单编号", "选购商品", "商品规格",
                                             "商品ID", "商家编码")}
    b = [{k: v.replace("69234567890123", "69234567890122").replace("2025-", "2024-")
          for k, v in row.items()} for row in _douyin_records()]  # other orders, a year earlier
    b[-2]["商品单价"] = "-45.00"  # 2023-2024 file: a negative unit price (the 2025 file: 0 units)
    b[-2]["商品数量"] = "1"
    _target("douyin", "订单导出_抖店_2024.csv").write_bytes(
        b"\xef\xbb\xbf" + _quoted([DY_B_HEADER, *_rows(DY_B_HEADER, [
            {k: v for k, v in x.items() if k in DY_B_HEADER} for x in b])], text_b,
            tab_b).encode("utf-8"))
    text_c = {i for i, h in enumerate(DY_C_HEADER) if h not in NUMBERS}
    tab_c = {DY_C_HEADER.index(h) for h in ("主订单编号", "子订单编号", "选购商品", "货号",
                                             "商品ID", "商家编码")}
    c = _douyin_records()
    c.insert(-3, douyin_order("6923456789012346501", "待发货", "2025-11-11 23:00:00",
                              "2025-11-11 23:00:30", "0.00",
                              [("山河 茶包 组合装", "3盒", "3", "TB-MIX", "3.34", "0.00")])[0])
    c[-4]["商品金额"] = "10.00"  # 10.00 for 3 units: no unit price to the cent
    _target("douyin", "1762873200_订单导出_抖店_2025.csv").write_bytes(
        b"\xef\xbb\xbf" + _quoted([DY_C_HEADER, *_rows(DY_C_HEADER, [
            {k: v for k, v in x.items() if k in DY_C_HEADER} for x in c])], text_c,
            tab_c).encode("utf-8"))


NUMBERS = {"商品数量", "商品单价", "商品金额", "订单应付金额", "运费", "优惠总金额", "达人优惠",
           "手续费"}


def write_all() -> None:
    write_jd_2016()
    write_jd_2018()
    write_1688()
    write_pinduoduo()
    write_douyin()
