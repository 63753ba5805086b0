"""Agency records: dossiers (hồ sơ), official documents (văn bản) and citizen feedback (phản ánh).

Each record is generated as a life story (received, perhaps asked for more papers, finished,
handed back) and stored as one row per *version*, with the time of that change in
`capNhatLuc` and the time the next version replaced it in `_hetHieuLuc` (null for the last
one). The demo API serves "the newest version as of its clock", so advancing the clock makes
records change the way the real platform's do.

The commune one-stop desks' HCC-06 reports are computed from the same dossier stories
(`hcc_counts`), so the two sources agree unless the intake manifest says a commune misreported.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate, pairwise

from demo import vocab
from demo.calendar import TZ, Month, WorkCalendar, month_range
from demo.rng import pick, poisson, ri, rnd, uni
from demo.units import AGENCY, District, Unit

HCC_COLUMNS = [
    "received_total", "carried_over", "received_online", "received_direct", "resolved_total",
    "resolved_early", "resolved_on_time", "resolved_late", "pending_total", "pending_in_time",
    "pending_late",
]
WARMUP_MONTHS = 3
"""Dossiers received this many months before the span still pending at its start are included."""


@dataclass
class Story:
    """One dossier's timeline, as HCC-06 sees it."""

    key: str
    field: str
    online: bool
    received: datetime
    finished: datetime | None
    deadline: datetime
    versions: list[dict] = field(default_factory=list)


def _at(d: date, hour: float) -> datetime:
    h = int(hour)
    m = int((hour - h) * 60)
    return datetime.combine(d, time(h, m), TZ)


def _tet_factor(cal: WorkCalendar, d: date) -> float:
    dist = cal.tet_distance(d)
    if -10 <= dist < 0:
        return 1.25
    if 0 <= dist <= 7:
        return 0.2
    if 7 < dist <= 21:
        return 0.55
    return 1.0


def _online_share(p: vocab.Procedure, m: Month) -> float:
    if p.service == "khong":
        return 0.0
    return min(0.92, p.online * (1 + 0.5 * (m.index() + 1) / 18))


def _weighted(r: random.Random, items: list, weights: list[float]):
    return r.choices(items, weights=weights, k=1)[0]


class Picker:
    """A weighted choice with the cumulative weights computed once (it runs per record)."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, r: random.Random):
        return self.items[bisect_right(self.cum, r.random() * self.total)]


URGENCY = Picker(["thuong", "khan", "thuong_khan", "hoa_toc"], [80, 12, 5, 3])
IN_TYPES = Picker([t[0] for t in vocab.DOC_TYPES_IN], [t[1] for t in vocab.DOC_TYPES_IN])
OUT_TYPES = Picker(vocab.DOC_TYPES_OUT, [t[2] for t in vocab.DOC_TYPES_OUT])


def _procedures_for(level: str, agency: str = "") -> tuple[list[vocab.Procedure], list[float]]:
    procs = [p for p in vocab.PROCEDURES if p.level == level and (not agency or p.agency == agency)]
    return procs, [p.weight for p in procs]


def _nguoi(r: random.Random, upland: bool) -> dict:
    return {
        "hoTen": vocab.person_name(r, upland),
        "soDienThoai": vocab.phone(r) if r.random() < 0.8 else None,
        "soCCCD": vocab.citizen_id(r) if r.random() < 0.9 else None,
    }


def dossier_stories(seed: int, district: District, unit: Unit, span: tuple[Month, Month],
                    cal: WorkCalendar, upland: bool, monthly_rate: float,
                    agency_role: str = "", devolved: dict[str, float] | None = None,
                    end: datetime | None = None) -> list[Story]:
    """Every dossier a unit handles whose life overlaps the span, received before `end` (the
    world's end; versions after it are kept: the API's clock shows them when it moves on).

    A commune handles the commune-level procedures at `monthly_rate`; a district agency its
    own (`agency_role`); a commune of the two-level government also the district-level
    procedures at the rates in `devolved` (role → dossiers per month)."""
    level = "huyen" if agency_role else "xa"
    procs, weights = _procedures_for(level, agency_role)
    if not procs:
        return []
    total = monthly_rate
    if devolved:
        own = sum(weights)
        weights = [w * monthly_rate / own for w in weights]
        for role, rate in devolved.items():
            ps, ws = _procedures_for("huyen", role)
            if ps and rate > 0:
                procs = procs + ps
                weights = weights + [w * rate / sum(ws) for w in ws]
                total += rate
    pick_proc = Picker(procs, weights)
    first, last = span
    # A unit that ended (a merger, the 2025 reform): whatever was open is closed on its last day.
    cutoff = datetime.combine(unit.valid_to, time(23, 30), TZ) if unit.valid_to else None
    stories: list[Story] = []
    seg = district.id_segment[unit.org_unit_id]
    for m in month_range(first.add(-WARMUP_MONTHS), last):
        if not unit.valid_between(m.first, m.last):
            continue
        if end is not None and m.start_dt() >= end:
            break
        r = rnd(seed, "dossiers", unit.org_unit_id, m)
        days = [m.first + timedelta(days=i) for i in range((m.last - m.first).days + 1)]
        days = [d for d in days if unit.valid_between(d, d)]
        working = [d for d in days if cal.is_working_day(d)]
        if not working:
            continue
        per_day = total / max(len(cal.in_month(m)), 1)
        month_items: list[tuple[datetime, vocab.Procedure, bool]] = []
        for d in days:
            tf = _tet_factor(cal, d)
            wk = cal.is_working_day(d)
            lam = per_day * tf * ({0: 1.2, 4: 0.9}.get(d.weekday(), 1.0) if wk else 0.12)
            for _ in range(poisson(r, lam)):
                p = pick_proc(r)
                online = r.random() < _online_share(p, m)
                if not wk and not online:
                    online = p.service != "khong"
                    if not online:
                        continue
                if online:
                    recv = _at(d, uni(r, 6.0, 23.0))
                else:
                    recv = _at(d, pick(r, [uni(r, 7.5, 11.5), uni(r, 13.5, 16.8)]))
                month_items.append((recv, p, online))
        month_items.sort(key=lambda x: (x[0], x[1].code))
        seq: dict[date, int] = {}
        for recv, p, online in month_items:
            if end is not None and recv >= end:
                break  # not received yet: the world ends here (the stream up to it is the same)
            n = seq[recv.date()] = seq.get(recv.date(), 0) + 1
            key = f"{seg}-{recv:%y%m%d}-{n:04d}"
            st = _dossier_life(r, key, p, unit, recv, online, cal,
                               upland, cutoff, m, level)
            if st.finished is not None and st.finished < first.start_dt():
                continue
            stories.append(st)
    return stories


def _dossier_life(r: random.Random, key: str, p: vocab.Procedure, unit: Unit, recv: datetime,
                  online: bool, cal: WorkCalendar, upland: bool, cutoff: datetime | None,
                  m: Month, level: str) -> Story:
    start = recv.date()
    deadline = _at(cal.add(start, p.days), 17.0)
    events: list[tuple[datetime, str, dict]] = []
    published = recv + timedelta(minutes=ri(r, 1, 20))
    base = {
        "maHoSo": key, "maTTHC": p.code, "tenTTHC": p.name, "linhVuc": p.field,
        "capThucHien": level, "maDonVi": unit.api_code,
        "kenhNop": 2 if online else (3 if r.random() < 0.025 else 1), "mucDoDVC": p.service,
        "ngayTiepNhan": recv, "ngayHenTra": deadline, "ngayKetThucXuLy": None,
        "ngayTraKetQua": None, "trangThai": "dang_xu_ly", "soLanBoSung": 0, "soNgayBoSung": 0,
        "coKetQuaDienTu": False,
        "daSoHoa": r.random() < min(0.9, 0.55 + 0.018 * (m.index() + 3)),
        "coNghiaVuTaiChinh": p.fee and r.random() < 0.95,
        "thanhToanTrucTuyen": None, "chuHoSo": _nguoi(r, upland),
    }
    if base["coNghiaVuTaiChinh"]:
        base["thanhToanTrucTuyen"] = r.random() < (0.6 if online else 0.06)
    state = dict(base)
    events.append((published, "v", dict(state)))
    last = published
    # Asked for more papers: the clock stops for the days the citizen takes.
    rounds = 0
    if p.days >= 2 and r.random() < p.supplement:
        rounds = 2 if r.random() < 0.25 else 1
    paused = 0
    for _ in range(rounds):
        ask_day = cal.add(last.date(), ri(r, 1, max(1, min(p.days - 1, 6))))
        ask = max(_at(ask_day, uni(r, 8.0, 16.5)), last + timedelta(minutes=5))
        state.update(trangThai="cho_bo_sung", soLanBoSung=state["soLanBoSung"] + 1)
        events.append((ask, "v", dict(state)))
        pause = ri(r, 1, 8)
        paused += pause
        back = _at(cal.add(ask.date(), pause), uni(r, 7.5, 16.5))
        deadline = _at(cal.add(deadline.date(), pause), 17.0)
        state.update(trangThai="dang_xu_ly", soNgayBoSung=paused, ngayHenTra=deadline)
        events.append((back, "v", dict(state)))
        last = back
    # How it ends.
    u = r.random()
    late_p = p.late * (1.3 if upland else 1.0)
    if u < 0.01:
        outcome, fin_day = "tu_choi", cal.add(last.date(), ri(r, 0, max(0, p.days - 1)))
    elif u < 0.016:
        outcome, fin_day = "rut_ho_so", cal.add(last.date(), ri(r, 0, max(0, p.days - 1)))
    elif u < 0.016 + late_p:
        overdue = min(30, 1 + int(r.expovariate(0.25)))
        outcome, fin_day = "da_xu_ly", cal.add(deadline.date(), overdue)
    elif u < 0.016 + late_p + 0.2:
        outcome, fin_day = "da_xu_ly", deadline.date()
    else:
        span_days = max(0, cal.between(last.date(), deadline.date()) - 1)
        outcome, fin_day = "da_xu_ly", cal.add(last.date(), ri(r, 0, span_days))
    if fin_day < last.date():
        fin_day = last.date()
    finished = max(_at(fin_day, uni(r, 8.0, 16.9)), last + timedelta(minutes=ri(r, 10, 90)))
    if cutoff is not None and finished > cutoff:
        # A commune merged away: whatever was open was closed on its last day.
        events = [e for e in events if e[0] < cutoff]
        state = dict(events[-1][2])
        deadline = state["ngayHenTra"]
        finished = max(_at(cutoff.date(), 16.0), events[-1][0] + timedelta(minutes=5))
        outcome = "da_xu_ly"
    state.update(trangThai=outcome, ngayKetThucXuLy=finished)
    if outcome == "da_xu_ly":
        state["coKetQuaDienTu"] = r.random() < ((0.75 if online else 0.3) + 0.01 * m.index())
    events.append((finished, "v", dict(state)))
    if outcome == "da_xu_ly":
        if state["coKetQuaDienTu"] and online:
            handed = finished + timedelta(minutes=ri(r, 2, 60))
        else:
            handed = _at(cal.add(finished.date(), pick(r, [0, 0, 1, 1, 2, 3, 5])),
                         uni(r, 7.5, 16.8))
            handed = max(handed, finished + timedelta(minutes=15))
        if r.random() < 0.97:
            state.update(trangThai="da_tra_ket_qua", ngayTraKetQua=handed)
            events.append((handed, "v", dict(state)))
    versions = []
    prev = None
    for when, _, rec in events:
        when = when.replace(microsecond=0)
        if prev is not None and when <= prev:
            when = prev + timedelta(seconds=1)
        rec["capNhatLuc"] = when
        versions.append(rec)
        prev = when
    for a, b in pairwise(versions):
        a["_hetHieuLuc"] = b["capNhatLuc"]
    versions[-1]["_hetHieuLuc"] = None
    return Story(key, p.field, online, recv, finished, deadline, versions)


def hcc_counts(stories: list[Story], m: Month) -> dict[str, dict[str, int]]:
    """HCC-06 numbers of one month per field, from the dossier stories (see docs/demo-data.md).

    Received in the month: online (kenhNop 2) or direct/postal. Carried over: received before,
    not finished before the month. Resolved: finished in the month (rejected and withdrawn
    dossiers included), early/on time/late by the date against the final `ngayHenTra`.
    Pending at the month's end: overdue when the deadline has passed by then.
    """
    start, end = m.start_dt(), m.end_dt()
    out: dict[str, dict[str, int]] = {}
    for s in stories:
        if s.received >= end or (s.finished is not None and s.finished < start):
            continue
        row = out.setdefault(s.field, dict.fromkeys(HCC_COLUMNS, 0))
        if s.received < start:
            row["carried_over"] += 1
        elif s.online:
            row["received_online"] += 1
        else:
            row["received_direct"] += 1
        row["received_total"] += 1
        if s.finished is not None and s.finished < end:
            row["resolved_total"] += 1
            fd, dd = s.finished.date(), s.deadline.date()
            row["resolved_early" if fd < dd else "resolved_on_time" if fd == dd
                else "resolved_late"] += 1
        else:
            row["pending_total"] += 1
            row["pending_late" if s.deadline < end else "pending_in_time"] += 1
    return out


# -------------------------------------------------------------------------------- documents
def _lower_first(name: str) -> str:
    """`Tỉnh Mô Phỏng 01` → `tỉnh Mô Phỏng 01` (as written inside a sentence)."""
    return name[:1].lower() + name[1:]


def document_records(seed: int, district: District, unit: Unit, span: tuple[Month, Month],
                     cal: WorkCalendar, rate_in: float, rate_out: float, symbol: str,
                     end: datetime | None = None):
    """Incoming and outgoing documents of a unit dated before `end`, as lists of versions."""
    first, last = span
    dname = district.unit.short_name
    if unit.unit_type == AGENCY:
        issuers = vocab.ISSUERS_IN_AGENCY
    elif district.devolved(unit):
        issuers = vocab.ISSUERS_IN_COMMUNE_AFTER_REFORM
    else:
        issuers = vocab.ISSUERS_IN_COMMUNE
    close_by = datetime.combine(unit.valid_to, time(23, 30), TZ) if unit.valid_to else None
    yearly_seq: dict[int, int] = {}
    for m in month_range(first, last):
        if not unit.valid_between(m.first, m.last):
            continue
        if end is not None and m.start_dt() >= end:
            break
        pname = _lower_first(district.province_on(m.first).name)
        r = rnd(seed, "documents", unit.org_unit_id, m)
        days = [d for d in cal.in_month(m) if unit.valid_between(d, d)]
        if not days:
            continue
        weights = [_tet_factor(cal, d) for d in days]
        n_in = poisson(r, rate_in * sum(weights) / max(len(days), 1))
        n_out = poisson(r, rate_out * sum(weights) / max(len(days), 1))
        items = []
        for i, d in enumerate(r.choices(days, weights=weights, k=n_in)):
            items.append(("den", i, _at(d, uni(r, 7.5, 16.8))))
        for i, d in enumerate(r.choices(days, weights=weights, k=n_out)):
            items.append(("di", i, _at(d, uni(r, 8.0, 17.0))))
        items.sort(key=lambda x: (x[2], x[0], x[1]))
        n_by_dir = {"den": 0, "di": 0}
        for chieu, _, when in items:
            if end is not None and when >= end:
                break
            n_by_dir[chieu] += 1
            letter = "D" if chieu == "den" else "G"
            doc_id = f"VB.{unit.api_code}.{m.year}{m.month:02d}.{letter}{n_by_dir[chieu]:04d}"
            rr = r
            topic = pick(rr, vocab.DOC_TOPICS)
            urgency = URGENCY(rr)
            if chieu == "den":
                kind = IN_TYPES(rr)
                template, symbol_in = pick(rr, issuers)
                issuer = template.format(d=dname, p=pname, c=unit.short_name)
                issued = cal.add(when.date() - timedelta(days=ri(rr, 1, 6)), 0)
                if issued > when.date():
                    issued = when.date()
                office = pick(rr, ["VP", "KT", "TH", "NC"]) if kind == "Công văn" else ""
                sokh = (f"{ri(rr, 1, 3000)}/{vocab.IN_PREFIX.get(kind, '')}{symbol_in}"
                        + (f"-{office}" if office else ""))
                deadline = None
                if rr.random() < 0.45:
                    urgent = urgency in ("thuong_khan", "hoa_toc")
                    n = ri(rr, 1, 2) if urgent else ri(rr, 3, 15)
                    deadline = cal.add(when.date(), n)
                yield from _incoming_versions(rr, doc_id, sokh, kind, topic, unit, issuer, urgency,
                                              issued, when, deadline, cal, close_by)
            else:
                kind, prefix, _ = OUT_TYPES(rr)
                y = when.year
                yearly_seq[y] = yearly_seq.get(y, 0) + 1
                sokh = f"{yearly_seq[y]}/{prefix}{symbol}"
                yield from _outgoing_versions(rr, doc_id, sokh, kind, topic, unit, urgency, when, m)


def _subject(kind: str, topic: str) -> str:
    if kind == "Công văn":
        return f"V/v {topic}"
    return f"{kind} {topic}" if kind in ("Báo cáo", "Kế hoạch", "Thông báo") else \
        f"{kind} về việc {topic}"


def _chain(versions: list[dict]) -> list[dict]:
    prev = None
    for v in versions:
        if prev is not None and v["capNhatLuc"] <= prev:
            v["capNhatLuc"] = prev + timedelta(seconds=1)
        prev = v["capNhatLuc"]
    for a, b in pairwise(versions):
        a["_hetHieuLuc"] = b["capNhatLuc"]
    versions[-1]["_hetHieuLuc"] = None
    return versions


def _incoming_versions(r, doc_id, sokh, kind, topic, unit, issuer, urgency, issued, arrived,
                       deadline, cal, close_by=None):
    base = {
        "id": doc_id, "soKyHieu": sokh, "trichYeu": _subject(kind, topic), "loaiVanBan": kind,
        "chieu": "den", "maDonVi": unit.api_code, "coQuanBanHanh": issuer, "doKhan": urgency,
        "ngayVanBan": issued, "ngayDen": arrived, "hanXuLy": deadline, "ngayHoanThanh": None,
        "trangThai": "chua_xu_ly", "kySo": r.random() < 0.9,
    }
    vs = [dict(base, capNhatLuc=arrived + timedelta(minutes=ri(r, 1, 30)))]
    assigned = _at(cal.add(arrived.date(), pick(r, [0, 0, 1])), uni(r, 8, 16.9))
    assigned = max(assigned, vs[0]["capNhatLuc"] + timedelta(minutes=10))
    if close_by is not None and assigned > close_by - timedelta(hours=6):
        assigned = max(close_by - timedelta(hours=6), vs[0]["capNhatLuc"] + timedelta(minutes=10))
    vs.append(dict(base, trangThai="dang_xu_ly", capNhatLuc=assigned))
    if r.random() < 0.96:
        if deadline is not None:
            if r.random() < 0.9:
                span_days = max(0, cal.between(assigned.date(), deadline))
                done_day = cal.add(assigned.date(), ri(r, 0, span_days))
            else:
                done_day = cal.add(deadline, ri(r, 1, 10))
        else:
            done_day = cal.add(assigned.date(), ri(r, 0, 20))
        done = max(_at(done_day, uni(r, 8, 17)), assigned + timedelta(minutes=20))
        if close_by is not None and done > close_by:  # the unit ended: filed on its last day
            done = max(close_by - timedelta(hours=7), assigned + timedelta(minutes=1))
        vs.append(dict(base, trangThai="da_xu_ly", ngayHoanThanh=done, capNhatLuc=done))
    elif close_by is not None:
        done = max(close_by - timedelta(hours=7), assigned + timedelta(minutes=1))
        vs.append(dict(base, trangThai="da_xu_ly", ngayHoanThanh=done, capNhatLuc=done))
    return _chain(vs)


def _outgoing_versions(r, doc_id, sokh, kind, topic, unit, urgency, issued, m):
    signed = r.random() < min(0.99, 0.9 + 0.005 * (m.index() + 1))
    base = {
        "id": doc_id, "soKyHieu": sokh, "trichYeu": _subject(kind, topic), "loaiVanBan": kind,
        "chieu": "di", "maDonVi": unit.api_code, "coQuanBanHanh": unit.name, "doKhan": urgency,
        "ngayVanBan": issued.date(), "ngayDen": None, "hanXuLy": None, "ngayHoanThanh": None,
        "trangThai": "dang_xu_ly", "kySo": False,
    }
    draft = issued - timedelta(hours=ri(r, 2, 60))
    opened = datetime.combine(unit.valid_from, time(7, 0), TZ)
    if draft < opened:  # a commune formed on the 1st drafts nothing before it exists
        draft = min(opened, issued - timedelta(minutes=30))
    vs = [dict(base, capNhatLuc=draft),
          dict(base, trangThai="da_xu_ly", ngayHoanThanh=issued, kySo=signed, capNhatLuc=issued)]
    return _chain(vs)


# --------------------------------------------------------------------------------- feedback
def feedback_records(seed: int, district: District, communes: list[Unit], span: tuple[Month, Month],
                     cal: WorkCalendar, end: datetime | None = None):
    """Citizen feedback of a district received before `end`, numbered per day across its
    communes."""
    first, last = span
    fields = vocab.FEEDBACK_FIELDS
    channels = [c for c, _ in vocab.FEEDBACK_CHANNELS]
    for m in month_range(first, last):
        if end is not None and m.start_dt() >= end:
            break
        items = []
        for u in communes:
            if not u.valid_between(m.first, m.last):
                continue
            areas = [district.areas[a] for a in district.commune_areas[u.org_unit_id]]
            pop = sum(a.population for a in areas)
            upland = any(a.upland for a in areas)
            r = rnd(seed, "feedback", u.org_unit_id, m)
            rainy = m.month in (9, 10, 11, 12)
            n = poisson(r, pop / 1000 * 5.0 * (1.2 if rainy else 1.0) * (0.7 if upland else 1.0))
            days = [m.first + timedelta(days=i) for i in range((m.last - m.first).days + 1)]
            days = [d for d in days if u.valid_between(d, d)]
            for i in range(n):
                d = pick(r, days)
                items.append((_at(d, uni(r, 6.5, 22.5)), u.org_unit_id, i, u, upland))
        items.sort(key=lambda x: (x[0], x[1], x[2]))
        r = rnd(seed, "feedback-items", district.code, m)
        seq: dict[date, int] = {}
        for when, _, _, u, upland in items:
            if end is not None and when >= end:
                break
            k = seq[when.date()] = seq.get(when.date(), 0) + 1
            key = f"PA.{district.code}.{when:%y%m%d}.{k:04d}"
            rainy = when.month in (9, 10, 11, 12)
            f = _weighted(r, fields, [w * (rf if rainy else 1.0) for _, w, rf, _, _ in fields])
            t_trend = min(m.index() / 18, 2.0)
            ch = _weighted(r, channels, [35 + 15 * t_trend, 20, 22, 13, 10 - 4 * t_trend])
            yield from _feedback_versions(r, key, f, ch, u, upland, when, cal, district)


def _feedback_versions(r, key, f, channel, u, upland, when, cal, district):
    field_name, _, _, titles, agency_key = f
    place = f"{vocab.village(r)}, {u.kind_word} {u.short_name}"
    title = pick(r, titles).format(v=place)
    name = vocab.person_name(r, upland)
    ph = vocab.phone(r)
    text = (f"Tôi là {name}, ở {place}. {title}. Đề nghị cơ quan chức năng kiểm tra, xử lý. "
            f"Số điện thoại liên hệ: {ph}.")
    base = {
        "maPhanAnh": key, "kenh": channel, "linhVuc": field_name, "tieuDe": title, "noiDung": text,
        "diaBan": u.api_code, "maDonViXuLy": None, "ngayTiepNhan": when, "hanXuLy": None,
        "ngayHoanThanh": None, "trangThai": "cho_tiep_nhan", "congKhai": False, "danhGia": None,
        "nguoiPhanAnh": {"hoTen": name, "soDienThoai": ph,
                         "soCCCD": vocab.citizen_id(r) if channel == "truc_tiep" else None},
    }
    vs = [dict(base, capNhatLuc=when + timedelta(minutes=ri(r, 1, 30)))]
    assigned = _at(cal.add(when.date(), pick(r, [0, 1, 1, 2])), uni(r, 8, 16.9))
    assigned = max(assigned, vs[0]["capNhatLuc"] + timedelta(minutes=5))
    if r.random() < 0.06:
        vs.append(dict(base, trangThai="tu_choi", ngayHoanThanh=assigned, capNhatLuc=assigned))
        return _chain(vs)
    handler_unit = u
    agency = district.agencies.get(agency_key) if agency_key else None
    if agency_key and r.random() < 0.35 and agency is not None and \
            agency.valid_on(assigned.date()):
        handler_unit = agency  # a district agency while there are districts
    handler = handler_unit.api_code
    close_by = last_minute = None
    if handler_unit.valid_to:  # the handler ends: it answers by its last day
        close_by = datetime.combine(handler_unit.valid_to, time(16, 30), TZ)
        last_minute = datetime.combine(handler_unit.valid_to, time(23, 50), TZ)
        if assigned > last_minute - timedelta(minutes=40):
            assigned = max(vs[0]["capNhatLuc"] + timedelta(minutes=5),
                           last_minute - timedelta(minutes=40))
    deadline = _at(cal.add(assigned.date(), pick(r, [7, 10, 10, 15])), 17.0)
    state = dict(base, trangThai="dang_xu_ly", maDonViXuLy=handler, hanXuLy=deadline)
    vs.append(dict(state, capNhatLuc=assigned))
    if r.random() < 0.95:
        late = r.random() < 0.12
        if late:
            done_day = cal.add(deadline.date(), ri(r, 1, 15))
        else:
            done_day = cal.add(assigned.date(), ri(r, 1, max(1, cal.between(
                assigned.date(), deadline.date()))))
        done = max(_at(done_day, uni(r, 8, 17)), assigned + timedelta(minutes=30))
        if close_by is not None and done > close_by:  # the handler ended: answered on its last day
            done = min(max(close_by, assigned + timedelta(minutes=30)), last_minute)
        state.update(trangThai="da_xu_ly", ngayHoanThanh=done, congKhai=r.random() < 0.7)
        vs.append(dict(state, capNhatLuc=done))
        if r.random() < 0.55:
            rating = _weighted(r, [1, 2, 3, 4, 5], [3, 4, 5, 4, 2] if late else [1, 2, 6, 14, 17])
            rated = done + timedelta(hours=ri(r, 1, 24 * 7))
            vs.append(dict(state, danhGia=rating, capNhatLuc=rated))
    elif close_by is not None:
        done = min(max(close_by, assigned + timedelta(minutes=30)), last_minute)
        state.update(trangThai="da_xu_ly", ngayHoanThanh=done)
        vs.append(dict(state, capNhatLuc=done))
    return _chain(vs)
