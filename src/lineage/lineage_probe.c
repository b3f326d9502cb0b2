/* lineage_probe.c: the default probe text of the activation test. Written for dokja
 * (no licence strings attached): everyday Korean prose, then English, so both scripts
 * of a Korean-first tokenizer are exercised. Any text works; what matters is that
 * both models read the same bytes. */
#include "lineage/lineage_internal.h"

const char LINEAGE_PROBE_TEXT[] =
    "아침 일찍 시장에 가면 갓 구운 빵 냄새와 생선 장수의 목소리가 골목을 가득 채운다. "
    "할머니는 늘 같은 가게에서 두부와 콩나물을 사셨고, 가게 주인은 덤으로 파 한 단을 얹어 주곤 했다. "
    "비가 오는 날이면 우산을 쓴 사람들이 처마 밑으로 모여들어 날씨 이야기를 나누었다. "
    "도서관은 오후가 되면 학생들로 붐빈다. 창가 자리에 앉은 학생은 수학 문제를 풀다가 "
    "잠시 고개를 들어 운동장에서 공을 차는 아이들을 바라보았다. 시험이 끝나면 친구들과 "
    "바닷가로 여행을 떠나기로 약속했기 때문에 마음이 조금 들떠 있었다. "
    "회사에서는 새로운 제품을 발표하기 위해 여러 부서가 함께 회의를 열었다. 개발팀은 "
    "성능을 두 배로 높였다고 설명했고, 영업팀은 가격을 어떻게 정할지 고민했다. "
    "회의가 길어지자 누군가 커피를 주문했고, 잠시 쉬는 동안 사람들은 주말 계획을 이야기했다. "
    "옛날 어느 산골 마을에 마음씨 착한 나무꾼이 살았다. 나무꾼은 매일 산에 올라 나무를 했는데, "
    "어느 날 다친 사슴 한 마리를 숨겨 주었다. 사슴은 고마움의 표시로 연못에 내려오는 "
    "선녀 이야기를 들려주었다. 이 이야기는 오랫동안 사람들 사이에서 전해져 내려왔다. "
    "겨울이 오면 온 가족이 모여 김장을 한다. 배추를 소금에 절이고, 고춧가루와 마늘, 젓갈을 "
    "섞은 양념을 버무려 항아리에 담는다. 김장이 끝나면 수육을 삶아 갓 담근 김치와 함께 먹는다. "
    "The morning train was late again, so the commuters stood on the platform with their "
    "collars turned up against the wind. A man in a grey coat read the newspaper while a "
    "child counted the pigeons that walked between the benches. When the train finally "
    "arrived, everyone pressed toward the doors at once. "
    "In the library, an old map of the harbour hung above the reading tables. It showed the "
    "streets as they had been two hundred years ago, with the fish market where the bus "
    "station now stands. Visitors often stopped to find their own houses on it and were "
    "surprised to learn how much of the shore had once been water. "
    "The recipe is simple: mix flour, water and a pinch of salt, knead the dough for ten "
    "minutes, and let it rest under a damp cloth. Roll it thin, cut it into strips, and "
    "cook the noodles in boiling water until they float. Serve them with a clear broth, "
    "green onions and a spoonful of chili oil. "
    "Scientists measured the temperature of the lake every week for thirty years. The data "
    "show that the ice now melts nine days earlier than it did when the measurements began, "
    "and that the deepest water has warmed by almost one degree. The team plans to publish "
    "the full record so that other researchers can check the results.";
