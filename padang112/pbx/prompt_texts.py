"""Texts of the voice prompts the switch plays, in the language callers hear.

Change ``LANGUAGE`` (an Asterisk language code, also the sounds sub-directory), ``ESPEAK_VOICE`` and the texts
together to change the language; ``padang112 asterisk install`` regenerates whatever changed. Prompts are
referenced everywhere as ``padang112/<name>`` (dialplan ``Playback(padang112/greeting)``, ARI
``sound:padang112/greeting``).
"""

from __future__ import annotations

LANGUAGE = "id"
ESPEAK_VOICE = "id"
ESPEAK_SPEED = 150  # words per minute; slightly slower than espeak's 175 default, easier on a phone line
POSITION_MAX = 30  # position-1 .. position-30, then position-many

PROMPTS: dict[str, str] = {
    "greeting": ("Layanan darurat satu satu dua Kota Padang. Mohon tetap di saluran, petugas kami segera menjawab."),
    "please-hold": "Semua petugas sedang melayani penelepon lain. Mohon tetap di saluran.",
    "position-many": "Masih banyak penelepon di depan Anda, mohon tetap di saluran.",
    "connecting": "Anda akan dihubungkan dengan petugas.",
    "prank-warning": (
        "Nomor ini tercatat sering melakukan panggilan iseng. Panggilan iseng ke satu satu dua dapat "
        "menghambat pertolongan bagi orang lain. Jika Anda dalam keadaan darurat, tetaplah di saluran."
    ),
}
# How espeak should say each agency (abbreviations spelled out so they are understood on a phone line).
SPOKEN_AGENCIES = {
    "damkar": "Pemadam Kebakaran",
    "bpbd": "B P B D",
    "satpolpp": "Satpol P P",
    "dishub": "Dinas Perhubungan",
    "dinkes": "Dinas Kesehatan",
    "dlh": "Dinas Lingkungan Hidup",
    "pupr": "Dinas P U P R",
}
PROMPTS.update(
    {
        f"duty-notice-{agency}": (
            f"Perhatian, petugas piket {spoken}. Ini Command Center satu satu dua Kota Padang. "
            "Ada tugas darurat yang belum diterima melewati batas waktu. Buka konsol O P D. "
            "Tekan satu untuk menerima tugas."
        )
        for agency, spoken in SPOKEN_AGENCIES.items()
    }
)
PROMPTS["duty-thanks"] = "Terima kasih. Tugas sudah diterima atas nama petugas piket."
PROMPTS.update({f"position-{n}": f"Anda berada di antrean nomor {n}." for n in range(1, POSITION_MAX + 1)})


def position_prompt(position: int) -> str:
    """Sound name (without the ``padang112/`` folder) announcing a caller's 1-based queue position."""
    if 1 <= position <= POSITION_MAX:
        return f"position-{position}"
    return "position-many"
