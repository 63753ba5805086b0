# ruff: noqa: E501  (tables of words: one entry per line reads better than wrapped)
"""Words of the demo world: procedures, people's names, document and feedback templates.

Procedure codes follow the shape of the national catalogue (`1.001193`) but only a few are
real; names and all personal data are synthetic: citizen ID numbers start with `000` (no
province has that code) and phone numbers with `0900 0`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from demo.rng import pick, ri


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    level: str  # "xa" | "huyen"
    agency: str  # handling agency role (agencies.csv) of huyen-level procedures, "" for communes
    days: int  # legal processing time in working days
    service: str  # mucDoDVC: toan_trinh | mot_phan | khong
    online: float  # base share submitted online (kenhNop 2) in early 2024
    fee: bool
    weight: float
    late: float  # probability of finishing after the deadline
    supplement: float  # probability of asking the citizen for more papers


P = Procedure
PROCEDURES: list[Procedure] = [
    # commune level
    P("1.001193", "Đăng ký khai sinh", "Hộ tịch", "xa", "", 1, "toan_trinh", .55, False, 14, .004, .01),
    P("1.000894", "Đăng ký kết hôn", "Hộ tịch", "xa", "", 5, "mot_phan", .30, False, 4, .004, .02),
    P("1.000656", "Đăng ký khai tử", "Hộ tịch", "xa", "", 1, "toan_trinh", .45, False, 4, .004, .01),
    P("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", "xa", "", 3, "toan_trinh", .50, False, 7, .004, .02),
    P("2.000635", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "xa", "", 1, "toan_trinh", .50, True, 8, .003, .0),
    P("1.004859", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "Hộ tịch", "xa", "", 3, "mot_phan", .30, True, 2, .01, .05),
    P("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", "xa", "", 1, "mot_phan", .06, True, 30, .002, .0),
    P("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", "xa", "", 1, "khong", 0, True, 6, .002, .0),
    P("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến quyền sử dụng đất và nhà ở", "Chứng thực", "xa", "", 2, "khong", 0, True, 5, .01, .03),
    P("1.003554", "Hòa giải tranh chấp đất đai", "Đất đai", "xa", "", 30, "khong", 0, False, 1, .15, .05),
    P("1.002255", "Xác nhận hiện trạng, nguồn gốc sử dụng đất", "Đất đai", "xa", "", 10, "mot_phan", .15, False, 3, .10, .12),
    P("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "Lao động - Thương binh và Xã hội", "xa", "", 7, "mot_phan", .25, False, 2.5, .02, .06),
    P("1.001758", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "Lao động - Thương binh và Xã hội", "xa", "", 3, "mot_phan", .20, False, 1, .01, .03),
    P("2.001227", "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", "Lao động - Thương binh và Xã hội", "xa", "", 7, "mot_phan", .20, False, 1.5, .02, .06),
    P("1.000954", "Xét tặng danh hiệu Gia đình văn hóa hằng năm", "Văn hóa", "xa", "", 5, "mot_phan", .10, False, 1, .01, .02),
    P("2.000440", "Thông báo tổ chức lễ hội cấp xã", "Văn hóa", "xa", "", 5, "toan_trinh", .30, False, .3, .01, .02),
    P("1.003596", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", "Nông nghiệp", "xa", "", 10, "khong", 0, False, 1, .03, .05),
    P("1.007917", "Xác nhận bảng kê lâm sản", "Nông nghiệp", "xa", "", 3, "mot_phan", .15, False, .8, .01, .03),
    # district level
    P("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "Đất đai", "huyen", "VPDK", 10, "mot_phan", .22, True, 40, .13, .15),
    P("1.004203", "Đăng ký đất đai, cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "Đất đai", "huyen", "VPDK", 30, "mot_phan", .12, True, 12, .18, .20),
    P("1.005398", "Cấp đổi, cấp lại Giấy chứng nhận quyền sử dụng đất", "Đất đai", "huyen", "VPDK", 10, "mot_phan", .18, True, 10, .12, .12),
    P("1.004206", "Đăng ký, xóa đăng ký thế chấp quyền sử dụng đất", "Đất đai", "huyen", "VPDK", 3, "toan_trinh", .45, True, 15, .04, .03),
    P("1.003003", "Tách thửa hoặc hợp thửa đất", "Đất đai", "huyen", "VPDK", 15, "mot_phan", .12, True, 6, .15, .18),
    P("1.001990", "Chuyển mục đích sử dụng đất phải được phép", "Đất đai", "huyen", "TNMT", 15, "mot_phan", .10, True, 5, .16, .18),
    P("1.004189", "Giao đất, cho thuê đất", "Đất đai", "huyen", "TNMT", 20, "khong", 0, True, 1, .20, .20),
    P("2.000575", "Đăng ký thành lập hộ kinh doanh", "Kinh doanh", "huyen", "TCKH", 3, "toan_trinh", .55, True, 8, .01, .08),
    P("2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "Kinh doanh", "huyen", "TCKH", 3, "toan_trinh", .55, True, 4, .01, .08),
    P("2.000583", "Đăng ký tạm ngừng, chấm dứt hoạt động hộ kinh doanh", "Kinh doanh", "huyen", "TCKH", 3, "toan_trinh", .55, False, 2, .01, .04),
    P("1.005008", "Đăng ký thành lập hợp tác xã", "Kinh doanh", "huyen", "TCKH", 5, "mot_phan", .35, True, .3, .02, .10),
    P("2.000908", "Chứng thực bản sao từ bản chính giấy tờ do cơ quan nước ngoài cấp", "Chứng thực", "huyen", "TP", 1, "mot_phan", .05, True, 6, .01, .0),
    P("2.000992", "Chứng thực bản dịch từ tiếng nước ngoài sang tiếng Việt", "Chứng thực", "huyen", "TP", 2, "khong", 0, True, 2, .01, .02),
    P("1.001695", "Thay đổi, cải chính hộ tịch cho người từ đủ 14 tuổi trở lên, xác định lại dân tộc", "Hộ tịch", "huyen", "TP", 3, "mot_phan", .30, True, 2, .01, .05),
    P("1.002271", "Giải quyết chế độ trợ cấp một lần đối với người có công", "Lao động - Thương binh và Xã hội", "huyen", "LDTBXH", 12, "mot_phan", .10, False, 2, .03, .08),
    P("1.001731", "Tiếp nhận đối tượng bảo trợ xã hội vào cơ sở trợ giúp xã hội", "Lao động - Thương binh và Xã hội", "huyen", "LDTBXH", 7, "mot_phan", .15, False, 1, .02, .06),
    P("1.004946", "Hỗ trợ chi phí học tập, miễn giảm học phí", "Lao động - Thương binh và Xã hội", "huyen", "LDTBXH", 7, "toan_trinh", .35, False, 3, .01, .04),
    P("1.009994", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Xây dựng", "huyen", "KTHT", 15, "toan_trinh", .30, True, 10, .05, .20),
    P("1.009995", "Cấp giấy phép sửa chữa, cải tạo công trình", "Xây dựng", "huyen", "KTHT", 15, "toan_trinh", .25, True, 2, .05, .18),
    P("1.001061", "Cấp phép thi công công trình trên đường huyện đang khai thác", "Giao thông vận tải", "huyen", "KTHT", 7, "mot_phan", .10, False, 1, .03, .10),
    P("1.001029", "Cấp giấy phép kinh doanh dịch vụ karaoke", "Văn hóa", "huyen", "VHTT", 5, "toan_trinh", .25, True, .6, .02, .10),
    P("1.004639", "Thông báo tổ chức lễ hội", "Văn hóa", "huyen", "VHTT", 5, "toan_trinh", .30, False, .6, .01, .03),
    P("1.005088", "Chuyển trường đối với học sinh trung học cơ sở", "Giáo dục và Đào tạo", "huyen", "GDDT", 3, "toan_trinh", .40, False, 4, .01, .02),
    P("1.005092", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Giáo dục và Đào tạo", "huyen", "GDDT", 1, "toan_trinh", .40, True, 4, .01, .0),
    P("1.001907", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "Y tế", "huyen", "YT", 15, "toan_trinh", .30, True, 3, .04, .15),
    P("1.000748", "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp huyện", "Thi đua - Khen thưởng", "huyen", "NV", 10, "khong", 0, False, 6, .02, .02),
    P("1.001055", "Đăng ký hoạt động tín ngưỡng", "Tôn giáo", "huyen", "NV", 15, "mot_phan", .10, False, .8, .03, .05),
    P("2.002159", "Giải quyết khiếu nại lần đầu", "Giải quyết khiếu nại", "huyen", "VP", 30, "khong", 0, False, 1.5, .10, .10),
    P("1.010942", "Tiếp nhận yêu cầu cung cấp thông tin", "Tiếp công dân", "huyen", "VP", 10, "mot_phan", .20, False, 3, .02, .05),
]

FIELD_ORDER = [
    "Hộ tịch", "Chứng thực", "Đất đai", "Lao động - Thương binh và Xã hội", "Văn hóa",
    "Xây dựng", "Nông nghiệp", "Kinh doanh", "Giao thông vận tải", "Giáo dục và Đào tạo", "Y tế",
    "Thi đua - Khen thưởng", "Tôn giáo", "Giải quyết khiếu nại", "Tiếp công dân",
]

# Dossiers per month at the communes per 1,000 inhabitants (the district agencies' rates are in
# agencies.csv, per 60,000 inhabitants of the district).
COMMUNE_RATE_PER_1000 = 15.0

# After the 2025 reform the communes receive this share of the documents the district agencies
# exchanged (agencies.csv), by population.
DEVOLVED_DOCUMENTS = 0.5

# ------------------------------------------------------------------------------------ people
SURNAMES = ["Nguyễn"] * 12 + ["Trần"] * 4 + ["Lê"] * 4 + ["Phạm"] * 3 + [
    "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh",
    "Trương", "Lương", "Mai", "Đoàn",
]
UPLAND_SURNAMES = ["Hồ", "Hồ", "Đinh", "Đinh", "Nguyễn", "Trần", "Alăng", "Bhling", "Zơ Râm", "Pơloong"]
MIDDLE_M = ["Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Ngọc"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Xuân"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khánh",
           "Long", "Minh", "Nam", "Nhân", "Phúc", "Quang", "Sơn", "Tài", "Thắng", "Thành",
           "Trung", "Tuấn", "Việt", "Vinh"]
GIVEN_F = ["Anh", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Liên",
           "Linh", "Loan", "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Sương",
           "Thảo", "Thu", "Trang", "Vân", "Yến"]


def person_name(r: random.Random, upland: bool = False) -> str:
    female = r.random() < 0.5
    surname = pick(r, UPLAND_SURNAMES if upland and r.random() < 0.7 else SURNAMES)
    middle = pick(r, MIDDLE_F if female else MIDDLE_M)
    given = pick(r, GIVEN_F if female else GIVEN_M)
    return f"{surname} {middle} {given}"


def phone(r: random.Random) -> str:
    """A phone number from a block no carrier uses for subscribers (0900 0xx xxx)."""
    return f"09000{int(r.random() * 10**5):05d}"


def citizen_id(r: random.Random) -> str:
    """A 12-digit ID with province code 000, which does not exist."""
    return f"000{int(r.random() * 10**9):09d}"


def village(r: random.Random) -> str:
    return pick(r, ["thôn ", "thôn ", "tổ dân phố "]) + str(ri(r, 1, 9))


# --------------------------------------------------------------------------------- documents
DOC_TYPES_OUT = [("Công văn", "", 10), ("Quyết định", "QĐ-", 3), ("Báo cáo", "BC-", 4),
                 ("Kế hoạch", "KH-", 2), ("Tờ trình", "TTr-", 1.5), ("Thông báo", "TB-", 2),
                 ("Giấy mời", "GM-", 2)]
DOC_TYPES_IN = [("Công văn", 12), ("Quyết định", 3), ("Kế hoạch", 2), ("Thông báo", 2.5),
                ("Giấy mời", 3), ("Chỉ thị", 0.4), ("Hướng dẫn", 1.2), ("Báo cáo", 1.5)]
DOC_TOPICS = [
    "triển khai công tác phòng, chống dịch sốt xuất huyết", "tình hình thực hiện nhiệm vụ kinh tế - xã hội",
    "tổ chức các hoạt động mừng Đảng, mừng Xuân", "rà soát hộ nghèo, hộ cận nghèo",
    "đẩy nhanh tiến độ giải ngân vốn đầu tư công", "công tác phòng, chống thiên tai và tìm kiếm cứu nạn",
    "thực hiện chuyển đổi số và dịch vụ công trực tuyến", "kiểm tra an toàn thực phẩm dịp Tết",
    "tuyển chọn và gọi công dân nhập ngũ", "công tác bảo vệ rừng, phòng cháy chữa cháy rừng mùa khô",
    "sắp xếp đơn vị hành chính cấp xã", "tổng kết năm học và triển khai nhiệm vụ năm học mới",
    "đăng ký tham gia bảo hiểm y tế hộ gia đình", "giải quyết đơn kiến nghị của công dân",
    "xây dựng nông thôn mới, đô thị văn minh", "quyết toán ngân sách xã",
    "bảo đảm an toàn giao thông dịp lễ", "công tác tiêm chủng mở rộng",
    "phát triển chăn nuôi, phòng chống dịch tả lợn châu Phi", "thu hồi đất thực hiện dự án đường giao thông",
]
# issuer as written on the document, and the symbol after the number (`125/UBND-VP`)
ISSUERS_IN_COMMUNE = [("UBND huyện {d}", "UBND"), ("Huyện ủy {d}", "HU"),
                      ("Phòng Tài chính - Kế hoạch huyện {d}", "TCKH"), ("Phòng Nội vụ huyện {d}", "NV"),
                      ("Phòng Tài nguyên và Môi trường huyện {d}", "TNMT"),
                      ("Trung tâm Y tế huyện {d}", "TTYT"), ("Ban Chỉ huy Quân sự huyện {d}", "BCH")]
# after the 2025 reform there is no district: a commune hears from the city and its departments
ISSUERS_IN_COMMUNE_AFTER_REFORM = [("UBND {p}", "UBND"), ("Đảng ủy xã {c}", "ĐU"),
                                   ("Sở Nội vụ {p}", "SNV"), ("Sở Tài chính {p}", "STC"),
                                   ("Sở Nông nghiệp và Môi trường {p}", "SNNMT"),
                                   ("Sở Y tế {p}", "SYT"), ("Sở Giáo dục và Đào tạo {p}", "SGDĐT")]
ISSUERS_IN_AGENCY = [("UBND {p}", "UBND"), ("Sở Nội vụ {p}", "SNV"), ("Sở Tài chính {p}", "STC"),
                     ("Sở Tài nguyên và Môi trường {p}", "STNMT"), ("UBND huyện {d}", "UBND"),
                     ("Huyện ủy {d}", "HU"), ("Sở Y tế {p}", "SYT"), ("Sở Giáo dục và Đào tạo {p}", "SGDĐT")]
IN_PREFIX = {"Công văn": "", "Quyết định": "QĐ-", "Kế hoạch": "KH-", "Thông báo": "TB-",
             "Giấy mời": "GM-", "Chỉ thị": "CT-", "Hướng dẫn": "HD-", "Báo cáo": "BC-"}

# --------------------------------------------------------------------------------- feedback
FEEDBACK_FIELDS = [
    # field, weight, rainy-season factor, (title templates), district agency role that may handle it
    ("Môi trường", 18, 1.6, ["Rác thải tồn đọng tại {v}", "Mùi hôi từ trại chăn nuôi gần {v}",
                            "Nước thải chảy tràn ra đường tại {v}"], "TNMT"),
    ("Giao thông", 16, 1.5, ["Đường bê tông tại {v} bị hư hỏng", "Ổ gà lớn trên đường liên xã qua {v}",
                            "Cây đổ chắn ngang đường tại {v}"], "KTHT"),
    ("Đất đai", 12, 1.0, ["Tranh chấp ranh giới đất tại {v}", "Lấn chiếm đất công tại {v}",
                         "Chậm cấp giấy chứng nhận quyền sử dụng đất"], "TNMT"),
    ("Trật tự đô thị", 8, 1.0, ["Lấn chiếm vỉa hè tại {v}", "Xây dựng không phép tại {v}"], "KTHT"),
    ("Điện", 10, 1.3, ["Mất điện kéo dài tại {v}", "Đèn đường hỏng tại {v}"], ""),
    ("Y tế", 6, 1.4, ["Nhiều ca sốt xuất huyết tại {v}", "Đề nghị phun thuốc diệt muỗi tại {v}"], "YT"),
    ("An ninh trật tự", 8, 1.0, ["Tụ tập gây mất trật tự tại {v}", "Đua xe trái phép qua {v}"], ""),
    ("Nước sạch", 7, 0.8, ["Nước sinh hoạt bị đục tại {v}", "Mất nước nhiều ngày tại {v}"], "KTHT"),
    ("Giáo dục", 4, 1.0, ["Đề nghị sửa chữa phòng học điểm trường {v}"], "GDDT"),
    ("Thủ tục hành chính", 6, 1.0, ["Chậm trả kết quả hồ sơ", "Thái độ tiếp dân tại bộ phận một cửa"], "VP"),
]
FEEDBACK_CHANNELS = [("ung_dung", 35), ("tong_dai", 20), ("zalo", 22), ("cong_thong_tin", 13),
                     ("truc_tiep", 10)]
