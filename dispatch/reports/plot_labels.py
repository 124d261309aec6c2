"""The words and numbers of the charts: Indonesian first, English on request."""

from __future__ import annotations

LANGUAGES = ("id", "en")
LABELS = {
    "id": {
        "no_data": "Tidak ada data",
        "target": "Target {n} mnt",
        "p90_line": "P90 {n} mnt",
        "p90_response": "P90 waktu tanggap",
        "unknown": "(tidak diketahui)",
        "histogram.title": "Sebaran waktu tanggap",
        "histogram.clipped": "lebih dari {n} mnt dihitung di batang terakhir",
        "fractile.title": "Kurva fraktil kumulatif",
        "fractile.curve": "Tiba dalam ≤ M menit",
        "trend.week": "Tren mingguan",
        "trend.month": "Tren bulanan",
        "district.title": "P90 waktu tanggap per kecamatan",
        "team.title": "P90 waktu tanggap per tim",
        "heatmap.incidents": "Insiden per jam × hari",
        "heatmap.calls": "Panggilan 112 per jam × hari",
        "axis.response_min": "Waktu tanggap (menit)",
        "axis.incidents": "Jumlah insiden",
        "axis.minutes_since_call": "Menit sejak panggilan (M)",
        "axis.share_within": "Tiba dalam M menit (%)",
        "axis.p90_min": "P90 waktu tanggap (menit)",
        "axis.share_target": "Dalam target (%)",
        "axis.local_hour": "Jam (waktu setempat)",
        "axis.count": "Jumlah",
    },
    "en": {
        "no_data": "No data",
        "target": "Target {n} min",
        "p90_line": "P90 {n} min",
        "p90_response": "P90 response time",
        "unknown": "(unknown)",
        "histogram.title": "Response time distribution",
        "histogram.clipped": "over {n} min counted in the last bar",
        "fractile.title": "Cumulative fractile curve",
        "fractile.curve": "On scene within M minutes",
        "trend.week": "Weekly trend",
        "trend.month": "Monthly trend",
        "district.title": "P90 response time by kecamatan",
        "team.title": "P90 response time by team",
        "heatmap.incidents": "Incidents by hour × weekday",
        "heatmap.calls": "112 calls by hour × weekday",
        "axis.response_min": "Response time (minutes)",
        "axis.incidents": "Incidents",
        "axis.minutes_since_call": "Minutes since the call (M)",
        "axis.share_within": "On scene within M minutes (%)",
        "axis.p90_min": "P90 response time (minutes)",
        "axis.share_target": "Within target (%)",
        "axis.local_hour": "Hour (local time)",
        "axis.count": "Count",
    },
}
WEEKDAYS = {"id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
            "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                   "Sunday"]}
MONTHS = {"id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt",
                 "Nov", "Des"],
          "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                 "Nov", "Dec"]}


def label(key: str, lang: str, **values: object) -> str:
    """The text of `key` in `lang` (Indonesian when unknown), `{name}`s filled in."""
    text = LABELS.get(lang, LABELS["id"]).get(key) or LABELS["id"][key]
    return text.format(**values) if values else text


def number(value: float, lang: str, digits: int = 1) -> str:
    """`value` with `digits` decimals (none when it is whole), a decimal comma in
    Indonesian: 12.5 -> "12,5"; 12.0 -> "12"."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "id" else text


def period_label(key: str, lang: str) -> str:
    """A report group key of a month ("2025-02" -> "Feb 2025") or an ISO week
    ("2025-W07" -> "2025-W07", as it is); anything else unchanged."""
    year, _, rest = key.partition("-")
    if year.isdigit() and rest.isdigit() and 1 <= int(rest) <= 12:
        return f"{MONTHS.get(lang, MONTHS['id'])[int(rest) - 1]} {year}"
    return key
