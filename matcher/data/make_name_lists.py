"""Writes first_names.txt, surnames.txt and common_words.txt from their public sources.

Not used at run time: the engine reads the text files this writes. Run it again when a
source changes, with the sources unpacked beside it:

    pip download --no-deps faker gender-guesser   # then unzip both wheels into SRC
    pip install --target SRC/wf wordfreq          # frequencies only
    apt-get install wdanish wamerican             # /usr/share/dict/{danish,american-english}
    python matcher/data/make_name_lists.py SRC

The hand-written lists (names_refugee.txt, places.txt, organisations.txt, laws.txt) are not
touched.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent

#: Columns of gender-guesser's nam_dict.txt (Jörg Michael's "gender" dictionary), in file order.
COUNTRIES = """great_britain ireland usa italy malta portugal spain france belgium luxembourg
    the_netherlands east_frisia germany austria swiss iceland denmark norway sweden finland estonia
    latvia lithuania poland czech_republic slovakia hungary romania bulgaria bosniaand croatia kosovo
    macedonia montenegro serbia slovenia albania greece russia belarus moldova ukraine armenia
    azerbaijan georgia the_stans turkey arabia israel china india japan korea vietnam
    other_countries""".split()
#: Least frequency class (1 rare .. D very common) a name needs in a country to be listed.
MIN_CLASS = {"denmark": 1, "norway": 3, "sweden": 3, "iceland": 5, "ukraine": 1, "russia": 3,
             "belarus": 4, "arabia": 1, "turkey": 3, "the_stans": 2, "great_britain": 5, "usa": 5,
             "germany": 5, "poland": 5, "bosniaand": 4, "albania": 4, "kosovo": 4}

# Ukrainian national transliteration (Cabinet of Ministers resolution 55 of 2010), word-internal forms.
_UK = dict(zip("абвгґдежзиіїйклмнопрстуфхцчшщьюяєʼ'",
               ["a", "b", "v", "h", "g", "d", "e", "zh", "z", "y", "i", "i", "i", "k", "l", "m", "n", "o",
                "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "iu", "ia", "ie", "", ""],
               strict=True))
_UK_FIRST = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def ukrainian_latin(name: str) -> str:
    """A Cyrillic Ukrainian name in the official Latin spelling ("Олена" -> "Olena")."""
    low = name.lower()
    out = [(_UK_FIRST if i == 0 else _UK).get(ch, _UK.get(ch, ch)) for i, ch in enumerate(low)]
    return "".join(out).capitalize()


def nam_dict_names(path: Path) -> set[str]:
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "#=":
            continue
        name = line.split()[1]
        columns = line[30:-1]
        for i, country in enumerate(COUNTRIES):
            least = MIN_CLASS.get(country)
            if least and i < len(columns) and columns[i].strip() and int(columns[i], 16) >= least:
                for variant in {name.replace("+", ""), name.replace("+", "-"), *name.split("+")}:
                    names.add(variant)
                break
    return names


def faker_names(src: Path) -> tuple[set[str], set[str]]:
    sys.path.insert(0, str(src))
    from faker.providers.person.da_DK import Provider as Danish
    from faker.providers.person.en_PK import Provider as Pakistani
    from faker.providers.person.uk_UA import Provider as Ukrainian

    first = {*Danish.first_names_male, *Danish.first_names_female, *Pakistani.first_names}
    first |= {ukrainian_latin(n) for n in (*Ukrainian.first_names_male, *Ukrainian.first_names_female)}
    last = {*Danish.last_names, *Pakistani.last_names}
    last |= {ukrainian_latin(n) for n in Ukrainian.last_names}
    return first, last


def common_words(src: Path, names: set[str]) -> set[str]:
    """Dictionary words (lower case in DSDO or the American wordlist) that are frequent in text,
    and every name that is also a dictionary word however rare ("bo", "rose", "ravn")."""
    sys.path.insert(0, str(src / "wf"))
    from wordfreq import zipf_frequency

    danish = {w for w in Path("/usr/share/dict/danish").read_text(encoding="utf-8").split() if w.islower()}
    english = {w for w in Path("/usr/share/dict/american-english").read_text(encoding="utf-8").split()
               if w.islower() and "'" not in w}
    words = {w for w in danish if zipf_frequency(w, "da") >= 2.5}
    words |= {w for w in english if zipf_frequency(w, "en") >= 3.3}
    words |= {n.lower() for n in names} & (danish | english)
    return {w for w in words if len(w) > 1} - NAMES_NOT_WORDS


#: Names the Danish wordlist also lists in lower case, though notes use them only as names.
NAMES_NOT_WORDS = set("""aksel arne bitten bodil david jan jens john kåre lise lotte mads malte maren maria martin
    mille nynne palle peter signe svend søren tove trine henry harry oscar victor billy bobby jimmy tony terry
    mike nick kyle chad dean gloria virginia sally donna carol colleen erika ester fanny helmer horst jarl
    knut kristen lea sander silke ture kamel sherif jasmin amir benjamin basil fares aurora""".split())


def write(path: Path, header: str, words: set[str]) -> None:
    body = "\n".join(sorted(words, key=lambda w: (w.lower(), w)))
    path.write_text(header.strip() + "\n" + body + "\n", encoding="utf-8")
    print(f"{path.name}: {len(words)}")


def main(src: Path) -> None:
    first, last = faker_names(src)
    first |= nam_dict_names(src / "gender_guesser" / "data" / "nam_dict.txt")
    first = {n for n in first if n.isalpha() and len(n) > 1 or "-" in n}
    last = {n for n in last if n.replace("-", "").isalpha() and len(n) > 1}
    refugee = {line.strip() for line in (HERE / "names_refugee.txt").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    write(HERE / "first_names.txt", """
# First names (one a line). Written by make_name_lists.py from:
#   Faker (MIT), person providers da_DK (Danish), uk_UA (Ukrainian, transliterated to the
#     official Latin spelling of 2010) and en_PK (Arabic and Urdu names in Latin spelling);
#   gender-guesser's nam_dict.txt (Jörg Michael, "gender" dictionary, GNU FDL 1.2): names
#     used in Denmark, Norway, Sweden, Ukraine, Russia, Arabia/Persia, Turkey, Central Asia
#     and, when common, Britain, the USA, Germany, Poland and the Balkans.
# Somali, Tigrinya, Dari/Pashto and more Arabic spellings are in names_refugee.txt.
""", first)
    write(HERE / "surnames.txt", """
# Surnames (one a line). Written by make_name_lists.py from Faker (MIT): da_DK (the most
# common Danish surnames, Danmarks Statistik), uk_UA (transliterated) and en_PK.
# Surnames of the refugee groups are in names_refugee.txt.
""", last)
    write(HERE / "common_words.txt", """
# Frequent Danish and English words (one a line): lower-case entries of the Danish wordlist
# DSDO (Debian wdanish, GPL) with a Zipf frequency of at least 2.5 in Danish and of the
# American English wordlist (Debian wamerican, public domain) with at least 3.3 in English,
# frequencies from wordfreq 3.1 (Robyn Speer, CC BY-SA 4.0), and every listed name that either
# wordlist has in lower case. Written by make_name_lists.py.
# A name on this list ("bo", "rose", "hans") is a name only in context.
""", common_words(src, first | last | refugee))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
