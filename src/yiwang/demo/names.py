"""Name pools for the fictional 云岭区. Plain data: everything here is demo content, not interface text,
so it is not wrapped in gettext (a real district's names are not translated either)."""

from __future__ import annotations

from datetime import date

CITY_NAME = "云州市"  # fictional; its 6-digit code would be 440100, the district sits at 440199
DISTRICT_CODE = "440199"
DISTRICT_NAME = "云岭区"
# Around lon 113.2–113.5, lat 23.0–23.2: about 31 km × 22 km, the size of a suburban district.
DISTRICT_BBOX = (113.20, 23.00, 113.50, 23.20)
# Ages are computed against a fixed day, not "today", so a load next year yields the same ID numbers.
REFERENCE_DATE = date(2026, 1, 1)

# (name, short code used for department codes). The first three are 街道 (urban core), the others 镇.
TOWNS: tuple[tuple[str, str], ...] = (
    ("云城街道", "YCJD"),
    ("岭南街道", "LNJD"),
    ("东湖街道", "DHJD"),
    ("白沙镇", "BSZ"),
    ("青山镇", "QSZ"),
)
STREET_COUNT = 3

# Village/community names are two characters: one from each pool (30 × 30 = 900 unique names).
VILLAGE_FIRST = "桃凤龙石新金银松竹梅兰荷柳杏枫玉翠碧宝福安和平康乐永长兴华盛"
VILLAGE_SECOND = "源岗塘岭湾田溪坑围洲坊园坪埔头沙湖林山冈垌坝坳圩庄阁桥苑涌滘"

ROADS = (
    "云岭大道",
    "岭南路",
    "东湖路",
    "白沙大道",
    "青山路",
    "凤凰街",
    "荔枝湾路",
    "文昌路",
    "兴业路",
    "环城北路",
    "环城南路",
    "学府路",
    "科创一路",
    "科创二路",
    "工业大道",
    "滨江路",
    "人民路",
    "解放路",
    "和平街",
    "建设路",
    "迎宾大道",
    "翠竹路",
    "金沙街",
    "玉兰路",
)
LANES = ("一巷", "二巷", "三巷", "东巷", "西巷", "大街", "新村", "上村", "下村")

# (name without the district prefix, code, USCC kind character, parent code). 政务服务 first: the demo
# window clerks, data officers and administrators work there.
DISTRICT_DEPARTMENTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("政务服务数据管理局", "ZSJ", "1", None),
    ("市场监督管理局", "SCJ", "1", None),
    ("人力资源和社会保障局", "RSJ", "1", None),
    ("卫生健康局", "WJJ", "1", None),
    ("民政局", "MZJ", "1", None),
    ("公安分局", "GAJ", "1", None),
    ("住房和城乡建设局", "ZJJ", "1", None),
    ("城市管理和综合执法局", "CGJ", "1", None),
    ("生态环境分局", "STHJ", "1", None),
    ("交通运输局", "JTJ", "1", None),
    ("教育局", "JYJ", "1", None),
    ("医疗保障局", "YBJ", "1", None),
    ("税务局", "SWJ", "1", None),
    ("应急管理局", "YJJ", "1", None),
    ("文化广电旅游体育局", "WGLTJ", "1", None),
    ("农业农村局", "NYJ", "1", None),
    ("自然资源分局", "ZRJ", "1", None),
    ("退役军人事务局", "TYJ", "1", None),
    ("残疾人联合会", "CLH", "3", None),  # 群团组织: 机构编制 kind 3
    ("综合指挥中心", "ZHZX", "1", "ZSJ"),  # the district's 一网统管 command centre, under the 政数局
)
DISTRICT_COMMAND_CENTRE = "ZHZX"
# 一网协同 (issue 16), appended after the rest so that earlier departments and seats keep their numbers: the
# district government's office (收发文, 督查督办) and one 村（居）民委员会 per village, below its town's office.
GOVERNMENT_OFFICE = ("人民政府办公室", "ZFB")
SERVICE_DEPARTMENT = "ZSJ"
MARKET_DEPARTMENT = "SCJ"
CIVIL_AFFAIRS_DEPARTMENT = "MZJ"  # 民政局: requests 人口基础信息 for 高龄津贴 in the data-foundation demo
PUBLIC_SECURITY_DEPARTMENT = "GAJ"  # 公安分局: the 数源部门 of the population registry
# 公共信用 (issue 17): the district has no 发展和改革局, so the credit office (社会信用体系建设办公室) is in the ZFB.
CREDIT_DEPARTMENT = GOVERNMENT_OFFICE[1]

# 字号 (trade names) for organisations: two characters, one from each pool.
TRADE_FIRST = "华鑫恒盛泰瑞嘉弘信诚宏锦润丰达隆德祥源昌永富安康宇航天博睿智新"
TRADE_SECOND = "通达发盛泰兴隆源昌和联创美宝汇辉光荣耀合力星辰阳升悦腾远晟"

# (industry, business scope) for 有限公司.
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("餐饮管理", "餐饮服务；餐饮管理；食品销售（仅销售预包装食品）。"),
    ("商贸", "日用百货销售；五金产品零售；电子产品销售；货物进出口。"),
    ("科技", "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发。"),
    ("信息技术", "信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务。"),
    ("建筑工程", "建设工程施工；住宅室内装饰装修；建筑材料销售。"),
    ("物流", "普通货物仓储服务；道路货物运输（不含危险货物）；国内货物运输代理。"),
    ("电子", "电子元器件制造；电子元器件批发；电子专用设备销售。"),
    ("食品", "食品生产；食品销售；农副产品销售。"),
    ("文化传媒", "组织文化艺术交流活动；广告设计、代理；广告制作；会议及展览服务。"),
    ("装饰设计", "住宅室内装饰装修；专业设计服务；家具安装和维修服务。"),
    ("汽车服务", "汽车零配件零售；机动车修理和维护；洗车服务。"),
    ("教育咨询", "教育咨询服务（不含涉许可审批的教育培训活动）；组织文化艺术交流活动。"),
    ("医药", "药品零售；第二类医疗器械销售；保健食品（预包装）销售。"),
    ("服装", "服装制造；服装服饰批发；服装服饰零售。"),
    ("物业管理", "物业管理；停车场服务；家政服务。"),
    ("环保科技", "环境保护专用设备销售；大气污染治理；水污染治理。"),
    ("新能源", "新兴能源技术研发；太阳能发电技术服务；充电桩销售。"),
    ("农业发展", "谷物种植；蔬菜种植；农产品的生产、销售、加工、运输、贮藏及其他相关服务。"),
    ("人力资源", "人力资源服务（不含职业中介活动、劳务派遣服务）；劳务服务（不含劳务派遣）。"),
    ("房地产经纪", "房地产经纪；房地产咨询；住房租赁。"),
    ("五金制品", "五金产品制造；金属制品销售；模具制造。"),
    ("包装材料", "包装材料及制品销售；塑料制品制造；纸制品制造。"),
)
COMPANY_SUFFIXES = ("有限公司",) * 9 + ("股份有限公司",)

# (shop kind, business scope) for 个体工商户.
SHOPS: tuple[tuple[str, str], ...] = (
    ("便利店", "食品销售；日用百货销售；烟草制品零售。"),
    ("小吃店", "餐饮服务（不产生油烟、异味、废气）。"),
    ("五金店", "五金产品零售；建筑材料销售。"),
    ("理发店", "理发服务；美容服务。"),
    ("水果店", "新鲜水果零售；食品销售（仅销售预包装食品）。"),
    ("粮油店", "粮油零售；食品销售。"),
    ("服装店", "服装服饰零售；鞋帽零售。"),
    ("手机维修部", "通讯设备修理；电子产品销售。"),
    ("快餐店", "餐饮服务。"),
    ("茶叶店", "茶具销售；食品销售（仅销售预包装食品）。"),
)

# (kind of institution, scope) for 事业单位.
INSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("小学", "实施小学义务教育，促进基础教育发展。"),
    ("中学", "实施初级中学教育，促进基础教育发展。"),
    ("幼儿园", "实施学前教育，促进幼儿身心健康发展。"),
    ("社区卫生服务站", "提供预防、保健、健康教育、基本医疗服务。"),
    ("文化站", "开展群众文化活动，提供公共文化服务。"),
    ("农业技术推广站", "开展农业技术推广与培训服务。"),
)

# (kind of social organisation, scope) for 社会组织.
SOCIETIES: tuple[tuple[str, str], ...] = (
    ("志愿者协会", "组织开展志愿服务活动，培训志愿者。"),
    ("社会工作服务中心", "开展社区社会工作服务、青少年及长者关爱服务。"),
    ("商会", "为会员提供信息交流、行业协调服务。"),
    ("养老服务中心", "为老年人提供日间照料、助餐、文化娱乐服务。"),
    ("书画协会", "组织书画交流、展览和培训活动。"),
    ("体育协会", "组织开展全民健身活动和体育赛事。"),
)

# Mobile prefixes in use in China (1[3-9]x).
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 170 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()

# Role → job title shown in the staff list.
TITLES = {
    "window_clerk": "综合窗口受理员",
    "approver": "审批科科员",
    "department_head": "负责人",
    "hotline_operator": "12345热线话务员",
    "grid_worker": "专职网格员",
    "dispatcher": "调度员",
    "data_officer": "数据专员",
    "district_admin": "系统管理员",
    "service_supervisor": "政务服务监督员",
    "data_centre": "大数据中心管理员",
    "office_clerk": "办公室文秘",
    "leader": "副区长",
    "village_clerk": "社区工作人员",
    "credit_officer": "信用管理科科员",
    "inspector": "行政执法人员",
}
