"""Word lists the matcher's case rules rely on. General English/Chinese naming facts, never per-article.

Kept apart from matcher.py so an operator can read (and extend) them in one place.
"""

from __future__ import annotations

# A capitalised word from this set directly before a brand that is also a surname makes the pair a
# person ("Harrison Ford", "Doug Ford", "Henry Ford", "Nikola Tesla"), not the company.
GIVEN_NAMES = frozenset(
    """
    Aaron Adam Adrian Alan Albert Alex Alexander Alice Amanda Amy Andrew Andy Angela Ann Anna Anne Anthony
    Arthur Barbara Ben Benjamin Betty Bill Billy Bob Bobby Bonnie Brad Brian Bruce Carl Carlos Carol Caroline
    Catherine Charles Charlie Chris Christian Christine Christopher Claire Craig Dan Daniel Danny David Dennis
    Diana Donald Doug Douglas Ed Edsel Edward Elizabeth Emily Emma Enzo Eric Erik Ferdinand Frank Fred
    Frederick Gary George Gerald Glenn Gordon Grace Greg Gregory Hannah Harold Harrison Harry Helen Henry
    Howard Ian Jack Jacob James Jane Janet Jason Jeff Jeffrey Jennifer Jerry Jessica Jim Jimmy Joe John
    Johnny Jon Jonathan Joseph Josh Joshua Julia Julie Karen Karl Kate Katherine Keith Ken Kenneth Kevin
    Kim Larry Laura Lauren Lawrence Leo Linda Lisa Louis Louise Lucy Luke Margaret Maria Mark Martin Mary
    Matt Matthew Megan Michael Michelle Mike Nancy Nathan Nicholas Nick Nicole Nikola Oliver Olivia Patricia
    Patrick Paul Peter Phil Philip Rachel Ralph Ray Raymond Rebecca Richard Rob Robert Roger Ron Ronald Rose
    Ruth Ryan Sam Samuel Sandra Sarah Scott Sean Sharon Simon Soichiro Stephen Steve Steven Susan Ted Terry
    Thomas Tim Timothy Tom Tony Victoria Walter Wayne William Willy
    Mr Mrs Ms Miss Dr Sir Dame Lord Lady Premier Senator Governor Mayor Judge Actor Actress
    """.split()
)

# Chinese family names that come first in romanised names ("Lei Jun", "Wang Chuanfu"): for these people
# the bare surname later in the text is the first token, not the last.
CHINESE_SURNAMES = frozenset(
    """
    Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng Liang Xie Song
    Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye Cheng Wei Su Ding Ren Lu Yao
    Shen Zhong Cui Tan Fan Lei Qin Shi Kong An Gu Mao Qiu Hou Bai Duan Lai Wan Lyu Shao Meng Long Tao Yin
    Hao Kang Zou Xiong Jin Fu Xia Qian Dai Fang
    """.split()
)

# Words that show a car / EV context near an ambiguous brand ("Smart", "Lucid", "Apple").
EV_CONTEXT_WORDS = frozenset(
    """
    car cars ev evs electric vehicle vehicles automaker automakers carmaker carmakers auto autos automotive
    deliveries delivered delivery suv suvs sedan sedans hatchback pickup truck trucks battery batteries
    charging charger chargers autonomous self-driving driving driver drivers robotaxi robotaxis hybrid hybrids
    nev nevs plug-in range motor motors model models brand brands dealership dealerships recall recalls
    units registrations shares stock nasdaq nyse
    """.split()
)
