"""The word lists ``--redact`` reads: honorifics, name particles, and common English words that
are also names (docs/export.md, "What redaction finds").

They only decide how much text around a known name goes, never whether a known name stays:
every part of every known name is redacted wherever it stands as a word, except that

- a particle (``de``, ``van``, ``al``...) stored in lower case is redacted only next to
  another part of a name (alone it says nothing about anyone, and ``de-escalated`` or "the
  police van" must survive);
- a common word (``Park``, ``Grace``, ``Will``...) is redacted alone only when it is written
  with a capital (``Park``, ``PARK``), always next to another part or after an honorific,
  and always in tags (whose case is lost). "the park" stays, "Mr Park" and "Park said" go.

A word missing from these lists only makes redaction stricter (a common word that is
someone's name is then redacted even in lower case): the lists trade readability, never
safety.
"""

from __future__ import annotations

# Before a name: the honorific goes with it ("Mrs O'Brien" -> "Person-1a2b3c4d"). Lower case,
# without the dot (an optional dot and any spacing follow in the text).
HONORIFICS = frozenset(
    """
    mr mrs ms miss mx master mister missus madam madame mme mlle mademoiselle sir dame lady lord
    dr doc doctor prof professor rev revd reverend fr father sr sister br bro brother pastor
    imam rabbi sheikh elder deacon bishop
    officer ofc po pc sgt sergeant cpl corporal lt lieutenant capt captain cmdr det detective
    insp inspector supt chief deputy trooper agent constable
    cllr councillor councilor alderman mayor judge hon
    aunt auntie aunty uncle grandma grandpa granny nana
    senor senora senorita sra srta don dona herr frau
    """.split()
)

# Parts of a surname that name nobody alone (stored in lower case: "de la Cruz", "van der
# Berg", "al-Hassan"); a capitalised one ("Al Brown", "Van Nguyen") is an ordinary part.
PARTICLES = frozenset(
    """
    a al am an ap aus ben bin bint d da dal das de degli dei del della dello den der des di
    do dos du e el en et ibn la las le les lo los mac mc o of op san santa st ste ter ten
    van vande vander ver von y zu zum zur
    """.split()
)

# Words that stand in a stored name without being anyone's name: dropped from its parts.
FILLERS = frozenset(
    """
    and the of family household unknown unnamed anonymous anon none jr snr jnr sr ii iii iv
    """.split()
)

# Common English words that are also names: alone and in lower case they stay ("the park",
# "I will", "a white van"). Function words first, then words that are frequent surnames or
# first names (Vietnamese Văn, Sơn, Hùng, Hà among them).
COMMON_WORDS = frozenset(
    """
    a about after all also am an and any are as at be been but by can could did do does done
    down each even ever for from get go going got had has have he her here him his how i if in
    into is it its just like made make me more most much must my no not now of off oh ok on once
    one only or other our out over own per said same see she should so some still such than
    that the their them then there these they this those through to too under until up upon us
    very was way we well were what when where which while who why will with would yes yet you
    your

    chin ha ho hung man sang son tan van

    able amber angel april art august autumn baker banks barber bass bay beach bell berry best
    bill bird bishop black bloom bond bone booth boss brand brandy bright brook brooks brown
    buck bush butler can candy cannon cardinal case cash chance chase chef cherry child church
    clay cliff coach coffee cook cross crown crystal dale dawn day dean dear december destiny
    dove drake duke dusty early east english fair faith fall farmer ferry field fields fish
    fisher ford forest fox frank free french friend frost fuller gain gay gene gentle ginger
    glass glen gold golden good grace gray green grey guy hall hand happy hardy harmony hawk
    hay heart hill holiday holly honey hood hope horn house hunt hunter ivy jack jade jay jewel
    joy judge june justice keen kind king knight lake lamb land lane large law legend lily
    little long love low lucky major march mark marsh mason may meadow merry miles mill miller
    mint misty moon more morning moss noble north november oak ocean olive page park parks pat
    patience peace pearl penny pepper pierce pike pine plum poor pope porter post pound power
    powers price prince queen rain ray read reed rich river rivers rob robin rock rocky rose
    ruby rush rusty sage sale salt sandy savage say sea shade sharp shepherd short silver
    simple sky small smart snow south spring star stark steel sterling stone storm strong sue
    summer sun sunny swan sweet swift temple tiger tower town trust violet walker wall walls
    ward warren water waters weaver west white wild will winter wise wolf wood woods woody
    worth young
    """.split()
)
