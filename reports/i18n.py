"""Every word the bulletin prints that is not data, Indonesian first and English second.

Keeping the pairs side by side means a heading cannot be added in one language and forgotten in
the other (`strings()` fails on a missing translation). Indonesian enumeration labels come from
`tasks.contract.submission.ENUMS`, the single source the regencies' submission format is documented
from; only their English renderings live here.
"""

from __future__ import annotations

from tasks.contract.submission import ENUMS

LANGS = ("id", "en")

# key -> (Bahasa Indonesia, English). `{name}` fields are filled in the templates.
STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Buletin Kesiapan Pilkada", "Pilkada Readiness Bulletin"),
    # After voting day readiness is over: the bulletin watches security, open incidents and cases.
    "title_pasca": ("Pemantauan Pasca-Pemungutan Pilkada", "Pilkada Post-Vote Monitoring"),
    "data_as_of": ("Data per {date}", "Data as of {date}"),
    "report_week": ("minggu laporan {range} ({week})", "reporting week {range} ({week})"),
    "week": ("Minggu", "Week"),
    "to_voting": ("menuju pemungutan suara {date}", "to voting day, {date}"),
    "voting_day": ("hari pemungutan suara {date}", "voting day, {date}"),
    "after_voting": ("setelah pemungutan suara {date}", "after voting day, {date}"),
    "issued": ("Diterbitkan {date}, {time} WITA", "Issued {date}, {time} WITA"),
    "preheader": (
        "{h}: {siap} Siap, {waspada} Waspada, {kritis} Kritis",
        "{h}: {siap} ready, {waspada} watch, {kritis} critical",
    ),
    "counts_title": ("Status kab/kota minggu ini", "Regency/city status this week"),
    "actions_title": ("Perlu tindakan minggu ini", "Action needed this week"),
    # The decision block: per Kritis/Waspada kab/kota, then one line each for security and ASN.
    "last_week_status": ("minggu lalu {prev}", "last week {prev}"),
    "next_deadline": ("Tenggat berikut", "Next deadline"),
    "deadline_by": ("{stage} paling lambat {day} ({h})", "{stage} by {day} ({h})"),
    "deadline_past": (
        "{stage}: tenggat {day} ({h}) sudah lewat",
        "{stage}: due {day} ({h}), now past",
    ),
    "desk_asks": ("Permintaan desk", "The desk asks (in Indonesian)"),
    "consistency": ("Tidak konsisten", "Inconsistent (in Indonesian)"),
    "behind_line": (
        "{n} desa tertinggal dari rencana ({remote} terpencil), terbanyak Kec. {top} ({m})",
        "{n} villages behind plan ({remote} remote), most in {top} district ({m})",
    ),
    "incidents_kab": (
        "Insiden: {new} baru, {open} masih terbuka",
        "Incidents: {new} new, {open} still open",
    ),
    "sec_line": (
        "{new} insiden baru, {open} masih terbuka",
        "{new} new incidents, {open} still open",
    ),
    "sec_casualties": (
        "; korban baru: {dead} meninggal, {hurt} luka",
        "; new casualties: {dead} dead, {hurt} hurt",
    ),
    "sec_no_casualties": ("; tidak ada korban baru", "; no new casualties"),
    "needs_verification": ("Perlu verifikasi", "Needs verification"),
    "verif_line": (
        "{kab}: laporan {id} ({cat}, {when}) menyebut {dead} meninggal, {hurt} luka, tingkat "
        "{level}; barisnya ditandai dan belum dihitung",
        "{kab}: report {id} ({cat}, {when}) claims {dead} dead, {hurt} hurt, severity {level}; "
        "the row is flagged and not yet counted",
    ),
    "asn_line": (
        "{new} kasus baru{where} · {sanctioned} disanksi · {recommended} pernah direkomendasikan "
        "ke BKN · {total} tercatat sejak awal",
        "{new} new cases{where} · {sanctioned} sanctioned · {recommended} ever recommended to BKN "
        "· {total} on record",
    ),
    "non_asn_line": (
        "Di luar ASN (tidak masuk hitungan ASN): {items}",
        "Outside ASN (not in the ASN counts): {items}",
    ),
    "non_asn_item": ("{kab} {n} ({kind}{new})", "{kab} {n} ({kind}{new})"),
    "non_asn_new": (", {n} baru", ", {n} new"),
    "non_asn_total": (
        "{n} kasus di luar ASN (tidak masuk hitungan ASN)",
        "{n} cases outside ASN (not in the ASN counts)",
    ),
    "non_asn_fresh": ("baru", "new"),
    "no_actions": ("Tidak ada tindakan mendesak minggu ini.", "No urgent action this week."),
    # Cross-sector follow-ups (tindak lanjut): beside each kab/kota needing action, in their own
    # section by agency, and in each annex.
    "tl_label": ("Tindak lanjut", "Follow-ups"),
    "tl_none_for": ("belum ada tindak lanjut", "no follow-up yet"),
    "tl_due": ("tenggat {date}", "due {date}"),
    "tl_overdue": ("lewat {n} hari dari tenggat", "{n} days past due"),
    "tl_overdue_1": ("lewat 1 hari dari tenggat", "1 day past due"),
    "tl_more_beside": (
        "… dan {n} lainnya di bagian Tindak lanjut lintas sektor.",
        "… and {n} more under Cross-sector follow-ups.",
    ),
    "tl_open_count": ("tindak lanjut terbuka: {n}", "open follow-ups: {n}"),
    "tl_open_late": (", lewat tenggat: {n}", ", past due: {n}"),
    "tl_title": ("Tindak lanjut lintas sektor", "Cross-sector follow-ups"),
    # an agency's follow-ups already listed beside their kab/kota in the decision block
    "tl_some_above": ("{n} tercantum di atas", "{n} listed above"),
    "tl_all_above": ("tercantum di atas", "listed above"),
    "tl_summary": (
        "Tindak lanjut terbuka: {open}, {late} di antaranya lewat tenggat dan {blocked} "
        "terkendala.",
        "Open follow-ups: {open}, of which {late} past due and {blocked} blocked.",
    ),
    "tl_open_none": ("Tidak ada tindak lanjut terbuka.", "No open follow-ups."),
    "tl_overdue_title": ("Lewat tenggat", "Past due"),
    "tl_pending_title": ("Belum lewat tenggat", "Not yet due"),
    "tl_listed_of": (
        "Ditampilkan {shown} dari {total}; lampiran tiap kab/kota memuat semuanya.",
        "Showing {shown} of {total}; each regency's annex lists them all.",
    ),
    "tl_done": ("Selesai minggu ini: {done}", "Done this week: {done}"),
    "tl_done_late_of": (
        ", {late} di antaranya melewati tenggat",
        ", {late} of them after the due date",
    ),
    "tl_none": (
        "Tidak ada tindak lanjut terbuka atau selesai minggu ini.",
        "No follow-ups open or done this week.",
    ),
    "province_wide": ("Seluruh provinsi", "Whole province"),
    "scorecard_title": ("Semua kab/kota", "All regencies/cities"),
    "kabkota": ("Kab/Kota", "Regency/city"),
    "status": ("Status", "Status"),
    "reasons": ("Alasan", "Reasons"),
    "no_reason": ("Semua indikator dalam batas.", "All indicators within limits."),
    "incidents_listed_of": (
        "Daftar memuat {shown} dari {total} kejadian (tingkat tinggi dan terbaru lebih dulu).",
        "The list shows {shown} of {total} incidents (severe and newest first).",
    ),
    "listed_of": (
        "Tabel per kab/kota di buletin ini memuat {shown} dari {total} kab/kota, yang paling "
        "perlu perhatian lebih dulu; angka total mencakup semuanya, dan semua kab/kota ada di "
        "mart.kabkota_weekly (pilkada query).",
        "Per-regency tables in this bulletin list {shown} of {total} regencies/cities, those "
        "needing attention first; totals cover all of them, and every one is in "
        "mart.kabkota_weekly (pilkada query).",
    ),
    "col_pps": ("Logistik di PPS", "Supplies at PPS"),
    "col_tps_full": ("TPS lengkap", "TPS fully supplied"),
    "col_linmas": ("Linmas per TPS", "Linmas per TPS"),
    "col_status": ("Kab/kota · status", "Regency · status"),
    "col_open_inc": ("Insiden terbuka", "Open incidents"),
    "col_asn_new": ("Kasus ASN baru", "New ASN cases"),
    "no_data": ("— = data tidak tersedia", "— = no data"),
    "no_data_word": ("tidak ada data", "no data"),
    # Issue 21: a figure from part of the data says so; a report not received is no zero
    "counted_from": ("dihitung dari {n} dari {total} {unit}", "counted from {n} of {total} {unit}"),
    "unit_desa": ("desa/kelurahan", "villages"),
    "unit_kecamatan": ("kecamatan", "subdistricts"),
    "not_reported": ("belum melapor", "not reported"),
    "below_norm": ("▼ di bawah norma {n} Linmas per TPS", "▼ below the norm of {n} Linmas per TPS"),
    # Logistics
    "logistik_title": ("Logistik", "Logistics"),
    "chart_log_caption": (
        "Persentase logistik yang sudah sampai di tiap tahap, per kab/kota",
        "Share of supplies that have reached each stage, by regency/city",
    ),
    "chart_log_alt": (
        "Logistik per tahap (gudang kab/kota, PPK, PPS, TPS)",
        "Supplies by stage (regency warehouse, PPK, PPS, TPS)",
    ),
    "targets": ("Target pada {h}", "Expected by {h}"),
    "items_title": ("Kemajuan per barang (provinsi)", "Progress by item (province)"),
    "item": ("Barang", "Item"),
    "need": ("Kebutuhan", "Required"),
    "damaged": ("Rusak", "Damaged"),
    "behind_title": ("Desa tertinggal dari rencana", "Villages behind plan"),
    "behind_summary": (
        "{total} desa/kelurahan tertinggal dari rencana distribusi pada {h}; {remote} di "
        "antaranya terpencil. Daftar per desa ada di lampiran tiap kab/kota.",
        "{total} villages are behind the distribution plan at {h}; {remote} of them are "
        "remote. Each regency's annex lists them by village.",
    ),
    "behind_row": (
        "{n} desa di {kec} kecamatan ({remote} terpencil), tertinggal mulai {stage}; "
        "terbanyak Kec. {top} ({m})",
        "{n} villages in {kec} districts ({remote} remote), behind from {stage} on; "
        "most in {top} ({m})",
    ),
    "behind_none": (
        "Tidak ada desa/kelurahan yang tertinggal dari rencana.",
        "No village is behind the plan.",
    ),
    "remote": ("terpencil", "remote"),
    "transport": ("angkutan {mode}", "by {mode}"),
    "damaged_total": ("Barang rusak dilaporkan: {n}.", "Damaged items reported: {n}."),
    "projection_title": ("Perkiraan TPS lengkap per kab/kota", "Projected full supply by regency"),
    "tps_full_of": ("TPS lengkap", "TPS complete"),
    "villages_short": ("Desa kurang", "Villages short"),
    "villages_behind": ("Desa tertinggal dari rencana", "Villages behind plan"),
    "projected": ("Perkiraan lengkap", "Projected complete"),
    "not_projected": ("belum dapat diperkirakan", "cannot be projected"),
    "too_late": ("✖ lewat H-1", "✖ after D-1"),
    # Security
    "keamanan_title": ("Keamanan", "Security"),
    "keamanan_pasca_title": ("Keamanan pasca-pemungutan", "Security after the vote"),
    "personnel_line": (
        "Personel: Linmas {linmas} ({linmas_tps} per TPS) · Polri {polri} ({polri_tps}) · "
        "TNI {tni} ({tni_tps})",
        "Personnel: Linmas {linmas} ({linmas_tps} per TPS) · Polri {polri} ({polri_tps}) · "
        "TNI {tni} ({tni_tps})",
    ),
    "chart_tps_caption": (
        "TPS menurut kerawanan (pemetaan Polri), per kab/kota",
        "Polling stations by police risk class, by regency/city",
    ),
    "chart_tps_alt": ("TPS menurut kerawanan", "Polling stations by risk class"),
    "tps_total": ("{n} TPS", "{n} polling stations (TPS)"),
    "personnel": ("Personel", "Personnel"),
    "count": ("Jumlah", "Number"),
    "per_tps": ("per TPS", "per TPS"),
    "norm": ("Norma", "Norm"),
    "linmas_norm": ("{n} (UU)", "{n} (by law)"),
    "tps": ("TPS", "TPS"),
    "incidents_title": (
        "Insiden minggu ini dan yang masih terbuka",
        "Incidents this week and still open",
    ),
    "incidents_summary": (
        "{new} insiden baru minggu ini; {open} masih terbuka.",
        "{new} new incidents this week; {open} still open.",
    ),
    "incidents_none": ("Tidak ada insiden baru atau terbuka.", "No new or open incidents."),
    "when": ("Waktu (WITA)", "Time (WITA)"),
    "category": ("Kategori", "Category"),
    "severity": ("Tingkat", "Severity"),
    "new": ("BARU", "NEW"),
    "casualties": ("Korban: {dead} meninggal, {hurt} luka", "Casualties: {dead} dead, {hurt} hurt"),
    # Neutrality
    "netralitas_title": ("Netralitas ASN", "Civil-service (ASN) neutrality"),
    "asn_new": ("Kasus baru", "New cases"),
    "asn_total": ("Tercatat sejak awal", "On record since the start"),
    # Cumulative (ever reached the BKN stage), unlike the by-stage table's current stage.
    "asn_recommended": (
        "Pernah direkomendasikan ke BKN (kumulatif)",
        "Ever recommended to BKN (cumulative)",
    ),
    "asn_sanctioned": ("Disanksi", "Sanctioned"),
    "asn_median": ("Median hari sampai rekomendasi", "Median days to recommendation"),
    "asn_by_stage": ("Kasus menurut tahap saat ini", "Cases by current stage"),
    "asn_by_kabkota": ("Kasus per kab/kota", "Cases by regency/city"),
    "stage": ("Tahap", "Stage"),
    "cases": ("Kasus", "Cases"),
    # Data quality
    "kualitas_title": ("Kualitas data", "Data quality"),
    "on_time": ("Tepat waktu", "On time"),
    "late": ("Terlambat", "Late"),
    "missing": ("Tidak masuk", "Missing"),
    "rejected": ("Ditolak", "Rejected"),
    "kinds_note": (
        "Hitungan laporan (kab/kota × jenis, 5 jenis per kab/kota).",
        "Counts of reports (regency × kind, 5 kinds per regency).",
    ),
    "received": ("Diterima", "Received"),
    "flagged_rows": ("Baris ditandai", "Flagged rows"),
    "quality_rest": (
        "Kab/kota lain: semua laporan diterima tepat waktu, tanpa penolakan.",
        "Other regencies: every report on time, none rejected.",
    ),
    # Changes, narratives, method
    "changes_title": ("Perubahan sejak minggu lalu", "Changes since last week"),
    "changes_none": ("Tidak ada perubahan status.", "No status changes."),
    "changes_phase": (
        "penilaian kesiapan (logistik, Linmas) berakhir pada hari pemungutan; mulai minggu ini "
        "status dinilai dari keamanan, netralitas ASN, dan kelengkapan laporan, jadi tidak "
        "dibandingkan dengan minggu lalu.",
        "readiness judgments (logistics, Linmas) ended on voting day; from this week the status "
        "reflects security, ASN neutrality and report completeness, so it is not compared with "
        "last week."),
    "method_short": (
        "Status dihitung dengan ambang per H-n (docs/metrics.md); waktu dalam WITA.",
        "Status uses thresholds by days to the vote (docs/metrics.md); times are WITA.",
    ),
    "details_in_pdf": (
        "Tabel rinci (per barang, per kab/kota, per kecamatan), narasi lengkap dan sumber "
        "berkas ada di versi PDF dan di lampiran tiap kab/kota.",
        "Detailed tables (by item, regency and district), full narratives and source files are "
        "in the PDF version and each regency's annex.",
    ),
    "incidents_none_serious": (
        "Tidak ada yang bertingkat tinggi atau menimbulkan korban; daftar lengkap di versi PDF "
        "dan lampiran kab/kota.",
        "None of high severity or with casualties; the full list is in the PDF version and the "
        "regency annexes.",
    ),
    "incidents_more": (
        "… dan {n} lainnya di versi PDF dan lampiran kab/kota.",
        "… and {n} more in the PDF version and the regency annexes.",
    ),
    "map_title": ("Peta status", "Status map"),
    "map_caption": (
        "Status kab/kota minggu ini; titik = insiden dengan lokasi",
        "Regency status this week; dots = located incidents",
    ),
    "narasi_title": ("Kondisi terkini (laporan kab/kota)", "Current situation (regency reports)"),
    "narasi_none": ("Tidak ada narasi.", "No narrative submitted."),
    "method_title": ("Catatan metode", "Method note"),
    "method_body": (
        "Status Siap/Waspada/Kritis dihitung dari laporan kab/kota yang diterima "
        "dengan ambang yang makin ketat menjelang hari pemungutan suara (lihat "
        "docs/metrics.md). Isian yang ditandai salah tidak dihitung, isian lain pada baris "
        "itu tetap dihitung; angka dari sebagian data disebut demikian, laporan yang belum "
        "masuk tertulis \"belum melapor\". Waktu dalam WITA.",
        "Ready/Watch/Critical status is computed from the regency reports received, "
        "with thresholds that tighten as voting day nears (see docs/metrics.md). "
        "Values flagged as wrong are left out, the rest of their rows count; a figure from "
        "part of the data says so, and a report not received reads \"not reported\". "
        "Times are WITA.",
    ),
    "sources": ("Sumber data", "Data sources"),
    "file": ("Berkas", "File"),
    "version": ("Versi", "Version"),
    "sources_none": ("Tidak ada berkas diterima.", "No files received."),
    "late_mark": ("terlambat", "late"),
    "footer": (
        "Buletin otomatis Desk Pilkada Provinsi {province}. Jangan membalas email ini.",
        "Automated bulletin of the {province} Pilkada desk. Please do not reply.",
    ),
    # Print (PDF): the footer reads "Halaman 2 dari 9"; the words go into a CSS string, so they
    # must not contain quotes or backslashes.
    "page": ("Halaman", "Page"),
    "page_of": ("dari", "of"),
    # Annex for one kab/kota desk
    "annex_title": ("Lampiran Desk Pilkada", "Pilkada Desk Annex"),
    "annex_footer": (
        "Lampiran otomatis Desk Pilkada Provinsi {province} untuk {kabkota}. "
        "Jangan membalas email ini.",
        "Automated annex of the {province} Pilkada desk for {kabkota}. Please do not reply.",
    ),
    "status_title": ("Status minggu ini", "Status this week"),
    "last_week": ("Minggu lalu", "Last week"),
    "key_figures": ("Angka kunci", "Key figures"),
    "own_report": ("Laporan kab/kota minggu ini", "This week's regency report"),
    "stages_title": ("Kemajuan per tahap", "Progress by stage"),
    "reached": ("Capaian", "Reached"),
    "expected_by": ("Target {h}", "Expected by {h}"),
    "below_target": ("▼ di bawah target", "▼ below target"),
    "items_own_title": ("Kemajuan per barang", "Progress by item"),
    "tps_full_line": (
        "TPS dengan logistik lengkap: {n} dari {total} ({pct}).",
        "Polling stations fully supplied: {n} of {total} ({pct}).",
    ),
    "projected_tps": ("Perkiraan lengkap di TPS", "Projected complete at TPS"),
    "projected_pps": ("Perkiraan lengkap di PPS", "Projected complete at PPS"),
    "damaged_own": (
        "Barang rusak dilaporkan: {n} (surat suara {ballots}).",
        "Damaged items reported: {n} ({ballots} ballot papers).",
    ),
    "uncounted": (
        "{n} pasangan desa × barang tidak punya baris yang dihitung (tidak dilaporkan atau "
        "ditandai) dan dihitung nol.",
        "{n} village × item pairs have no counted row (not reported, or flagged) and count as "
        "zero.",
    ),
    "behind_own_summary": (
        "{n} dari {total} desa/kelurahan tertinggal dari rencana distribusi pada {h}; {remote} "
        "di antaranya terpencil (angkutan sungai atau udara). Semua tercantum di bawah per "
        "kecamatan, dengan tahap tempat desa mulai tertinggal.",
        "{n} of {total} villages are behind the distribution plan at {h}; {remote} of them are "
        "remote (river or air). All are listed below by district, with the stage where each "
        "falls behind.",
    ),
    "short_on_plan": (
        "{n} desa/kelurahan lain belum lengkap di PPS tetapi masih sesuai rencana.",
        "{n} other villages are not yet complete at the PPS but are on plan.",
    ),
    "village": ("Desa/kelurahan", "Village"),
    "behind_at": ("Tertinggal di", "Behind at"),
    "transport_col": ("Angkutan", "Transport"),
    "all_items": ("semua barang", "all items"),
    "all_but": ("semua kecuali {items}", "all except {items}"),
    "kecamatan": ("Kecamatan", "District"),
    "kecamatan_villages": ("Kec. {name} · {n} desa/kelurahan", "{name} district · {n} villages"),
    "log_missing": (
        "Laporan logistik minggu ini belum diterima, sehingga angka logistik tidak tersedia.",
        "This week's logistics report has not been received, so there are no logistics figures.",
    ),
    "sec_missing": (
        "Laporan keamanan minggu ini belum diterima, sehingga angka TPS dan personel tidak "
        "tersedia.",
        "This week's security report has not been received, so there are no polling-station "
        "or personnel figures.",
    ),
    "ikp": ("Kategori IKP 2024 (Bawaslu): {cat}.", "Bawaslu 2024 vulnerability index: {cat}."),
    "posko": ("Posko pengamanan", "Security posts"),
    "by_kecamatan": ("Per kecamatan", "By district"),
    "handled_by": ("Ditangani: {who}", "Handled by: {who}"),
    "asn_in_process": ("Dalam proses Bawaslu", "In Bawaslu process"),
    "asn_closed": ("Ditutup", "Closed"),
    "asn_privacy": (
        "Hanya jumlah kasus yang dicantumkan; rincian kasus ASN tidak pernah dikirim dalam "
        "lampiran ini.",
        "Only case counts are shown; civil-servant case details are never sent in this annex.",
    ),
    "feedback_title": ("Kualitas data dan umpan balik", "Data quality and feedback"),
    "kinds_received": (
        "Jenis laporan diterima: {n} dari {total}",
        "Report kinds received: {n} of {total}",
    ),
    "files_title": ("Berkas minggu ini", "Files this week"),
    "files_none": ("Tidak ada berkas diterima untuk minggu ini.", "No files received this week."),
    "rows_flagged_of": (
        "{flagged} dari {total} baris ditandai",
        "{flagged} of {total} rows flagged",
    ),
    "findings_title": ("Temuan per baris", "Row findings"),
    "row": ("Baris", "Row"),
    "findings_more": (
        "… dan {n} temuan lain; semuanya ada di umpan balik per berkas.",
        "… and {n} more findings; the per-file feedback lists them all.",
    ),
    "findings_none": (
        "Tidak ada temuan pada berkas minggu ini.",
        "No findings on this week's files.",
    ),
    "case_detail_hidden": (
        "rincian disembunyikan (data kasus ASN)",
        "detail withheld (civil-servant case data)",
    ),
    "tl_open_title": ("Terbuka", "Open"),
    "tl_closed_title": ("Ditutup minggu ini", "Closed this week"),
    "tl_status_on": ("{status} per {date}", "{status} as of {date}"),
    "tl_done_late": ("selesai lewat tenggat", "done after the due date"),
    "tl_decided": ("Diputuskan di {forum}, {date}", "Decided at {forum}, {date}"),
    "tl_by_province": ("dicatat Desk Pilkada provinsi", "filed by the provincial desk"),
    "tl_note": ("Catatan: {text}", "Note: {text}"),
    "tl_missing_from_report": (
        "tidak tercantum di laporan minggu ini; status terakhir dari {week}",
        "not in this week's report; last status from {week}",
    ),
    "tl_own_none": (
        "Tidak ada tindak lanjut terbuka atau ditutup minggu ini untuk kab/kota ini.",
        "No follow-ups open or closed this week for this regency/city.",
    ),
    "annex_method": (
        "Angka dalam lampiran ini sama dengan buletin provinsi minggu ini dan dihitung dengan "
        "cara yang sama (lihat docs/metrics.md); isian yang ditandai salah tidak dihitung, isian "
        "lain pada barisnya tetap dihitung. Waktu dalam "
        "WITA. Keterangan berkas dan temuan ditulis oleh sistem dalam bahasa Indonesia.",
        "The figures in this annex are this week's provincial bulletin figures, computed the "
        "same way (see docs/metrics.md); values flagged as wrong are left out, the rest of their "
        "rows count. Times are WITA. File "
        "verdicts and findings are written by the system in Indonesian.",
    ),
    # Subject line (reports.render._subject): "[H-3] 1 Kritis: Mahulu · 3 Waspada: Kubar, …".
    "subject_all_siap": ("Semua kab/kota Siap", "All regencies/cities Ready"),
    "subject_none_after": (
        "Tidak ada kab/kota Waspada atau Kritis",
        "No regency/city on Watch or Critical",
    ),
    "subject_title_after": ("Buletin Pilkada", "Pilkada Bulletin"),
    # Chart headlines: the finding, drawn above the chart and opening its alt text.
    "chart_log_head_below": (
        "Logistik: {n} dari {total} kab/kota di bawah target {stage} {h}",
        "Supplies: {n} of {total} regencies/cities below the {stage} target for {h}",
    ),
    "chart_log_head_met": (
        "Logistik: semua kab/kota mencapai target {h}",
        "Supplies: every regency/city meets the {h} targets",
    ),
    "chart_log_head": ("Logistik per tahap, per kab/kota", "Supplies by stage, by regency/city"),
    "chart_head_no_report": (", {n} tanpa laporan", ", {n} without a report"),
    "chart_target": ("Target {h}", "Target {h}"),
    "chart_tps_head": (
        "Keamanan: {n} TPS sangat rawan, terbanyak di {name} ({m})",
        "Security: {n} high-risk polling stations, most in {name} ({m})",
    ),
    "chart_tps_head_none": (
        "Keamanan: tidak ada TPS sangat rawan",
        "Security: no high-risk polling stations",
    ),
}

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "Siap": ("Siap", "Ready"),
    "Waspada": ("Waspada", "Watch"),
    "Kritis": ("Kritis", "Critical"),
}
# Words of the status map (reports/map.py): its title, legend, alt text and credit line.
MAP_STRINGS: dict[str, tuple[str, str]] = {
    "alt_intro": ("Peta status kab/kota", "Map of regency/city status"),
    "no_data": ("Tanpa data", "No data"),
    "incidents": ("Insiden", "Incidents"),
    "incidents_alt": (
        "Insiden berlokasi ({n}), ditandai titik hitam",
        "Located incidents ({n}), shown as black dots",
    ),
    "incidents_more": ("dan {n} lainnya", "and {n} more"),
    "incidents_off": (
        "Insiden di luar peta, tidak digambar: {n}",
        "Incidents outside the map, not drawn: {n}",
    ),
    "not_drawn": (
        "Tidak dapat digambar (batas wilayah tidak tersedia)",
        "Not drawn (no boundary available)",
    ),
    "no_map": ("Peta batas wilayah tidak tersedia", "Boundary map not available"),
    "severity": ("tingkat {s}", "severity {s}"),
    "credit": (
        "Batas: cahyadsn/wilayah_boundaries (MIT), disederhanakan",
        "Boundaries: cahyadsn/wilayah_boundaries (MIT), simplified",
    ),
    "head_one": ("{n} kab/kota {status}", "{n} regency/city {status}"),
    "head_many": ("{n} kab/kota {status}", "{n} regencies/cities {status}"),
    "head_all": ("Semua {n} kab/kota {status}", "All {n} regencies/cities {status}"),
    "head_no_data": ("{n} tanpa data", "{n} without data"),
}

STATUS_SYMBOLS: dict[str, str] = {"Siap": "✔", "Waspada": "▲", "Kritis": "✖"}
# After voting day level 0 no longer means "ready" (readiness is not judged any more): nothing
# needs attention. Same colour and symbol, another word (docs/metrics.md, phases).
STATUS_WORDS_PASCA: dict[str, tuple[str, str]] = {"Siap": ("Kondusif", "Calm")}

STAGES: dict[str, tuple[str, str]] = {
    "kabkota": ("Gudang kab/kota", "Regency warehouse"),
    "ppk": ("PPK (kecamatan)", "PPK (district)"),
    "pps": ("PPS (desa/kelurahan)", "PPS (village)"),
    "tps": ("TPS", "TPS (polling station)"),
}

# Column headings where a phone has room for one short word.
STAGES_SHORT: dict[str, tuple[str, str]] = {
    "kabkota": ("Gudang", "Depot"),
    "ppk": ("PPK", "PPK"),
    "pps": ("PPS", "PPS"),
    "tps": ("TPS", "TPS"),
}

TPS_CLASSES: dict[str, tuple[str, str]] = {
    "kurang_rawan": ("Kurang rawan", "Low risk"),
    "rawan": ("Rawan", "At risk"),
    "sangat_rawan": ("Sangat rawan", "High risk"),
}

KINDS: dict[str, tuple[str, str]] = {
    "ringkasan": ("ringkasan", "summary"),
    "logistik": ("logistik", "logistics"),
    "keamanan": ("keamanan", "security"),
    "insiden": ("insiden", "incidents"),
    "netralitas": ("netralitas", "neutrality"),
}

# Verdicts of a received file as the ledger (audit.submission_status) states them.
FILE_STATUS: dict[str, tuple[str, str]] = {
    "accepted": ("✔ Diterima", "✔ Accepted"),
    "accepted_with_flags": ("▲ Diterima dengan catatan", "▲ Accepted with notes"),
    "rejected": ("✖ Ditolak", "✖ Rejected"),
    "duplicate": ("= Duplikat", "= Duplicate"),
    "superseded": ("↻ Digantikan versi baru", "↻ Superseded"),
}

# English renderings of contract enumerations; Indonesian comes from
# tasks.contract.submission.ENUMS.
ENUMS_EN: dict[str, dict[str, str]] = {
    "status_umum": {
        "aman_terkendali": "Safe, under control",
        "ada_kendala": "Some problems",
        "kritis": "Critical",
    },
    "barang": {
        "ss_gubernur": "Governor ballot papers",
        "ss_bupati_walikota": "Regent/mayor ballot papers",
        "kotak_suara": "Ballot boxes",
        "bilik_suara": "Voting booths",
        "tinta": "Ink",
        "segel": "Seals",
        "alat_coblos": "Punch tools",
        "formulir_c": "Form C",
    },
    "moda_angkut": {"darat": "road", "sungai": "river", "laut": "sea", "udara": "air"},
    "tingkat": {"rendah": "Low", "sedang": "Medium", "tinggi": "High"},
    "jenis_pegawai": {
        "pns": "PNS (civil servant)",
        "pppk": "PPPK (contract civil servant)",
        "honorer": "Honorary/non-ASN staff",
        "kepala_desa": "Village head/official",
        "lainnya": "Other",
    },
    "tahap_kasus": {
        "registrasi": "Registered",
        "kajian_bawaslu": "Under Bawaslu review",
        "bukan_pelanggaran": "Not a violation",
        "dihentikan": "Dropped",
        "rekomendasi_ke_bkn": "Recommended to BKN",
        "rekomendasi_bkn": "BKN sanction recommendation",
        "sanksi_dijatuhkan": "Sanction imposed",
        "tidak_ditindaklanjuti": "Not followed up",
    },
    # Agencies keep their Indonesian acronym, which is how they sign; the gloss says who they are.
    "instansi": {
        "kpu": "KPU (election commission)",
        "bawaslu": "Bawaslu (election supervisor)",
        "polri": "Polri (police)",
        "tni": "TNI (armed forces)",
        "pemda": "Local government",
        "bpbd": "BPBD (disaster management)",
        "kejaksaan": "Prosecutor's office",
        "kesbangpol": "Kesbangpol (national unity office)",
        "dishub": "Transport office",
        "diskominfo": "Communications office",
        "dinkes": "Health office",
        "dprd": "DPRD (regional parliament)",
    },
    "status_tindak_lanjut": {
        "baru": "New",
        "berjalan": "In progress",
        "terkendala": "Blocked",
        "selesai": "Done",
        "dibatalkan": "Cancelled",
    },
    "forum": {
        "desk_pilkada": "the Pilkada desk",
        "rakor_forkopimda": "the Forkopimda coordination meeting",
        "lainnya": "another forum",
    },
    "bidang": {
        "logistik": "Logistics",
        "keamanan": "Security",
        "netralitas": "ASN neutrality",
        "partisipasi": "Voter participation",
        "lainnya": "Other",
    },
}

# Short province names used in subjects, where a phone shows only the first ~40 characters.
PROVINCE_SHORT: dict[str, str] = {"Kalimantan Timur": "Kaltim"}


def kabkota_title(name: str) -> str:
    """"Kabupaten Paser" -> "Kab. Paser" (cities keep "Kota"), as desks write it in subjects."""
    prefix = "Kabupaten "
    return "Kab. " + name[len(prefix):] if name.startswith(prefix) else name


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(lang)]


def check_lang(lang: str) -> str:
    """Reject an unknown language early, with the choices, instead of rendering half a bulletin."""
    if lang not in LANGS:
        raise ValueError(f"bahasa '{lang}' tidak didukung; pilih salah satu dari {LANGS}")
    return lang


def strings(lang: str) -> dict[str, str]:
    """UI strings in one language, keyed as in STRINGS."""
    check_lang(lang)
    return {key: _pick(pair, lang) for key, pair in STRINGS.items()}


def status_words(lang: str, fase: str = "persiapan") -> dict[str, str]:
    """The status words of a week's phase, in one language."""
    words = labels(STATUS_WORDS, lang)
    if fase == "pasca_pemungutan":
        words.update(labels(STATUS_WORDS_PASCA, lang))
    return words


def labels(table: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    """One language's column of a (id, en) label table such as STAGES or TPS_CLASSES."""
    return {key: _pick(pair, lang) for key, pair in table.items()}


def enum_label(enum: str, code: str, lang: str, fallback: str | None = None) -> str:
    """Label of an enumeration value; unknown codes fall back to the given label, then the code.

    The fallback keeps the bulletin readable when a new code reaches the data before a
    translation reaches this file.
    """
    source = ENUMS_EN if lang == "en" else ENUMS
    return source.get(enum, {}).get(code) or fallback or code
