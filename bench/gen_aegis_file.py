# Writes a 200 MB Aegis state file for the import benchmark of
# docs/benchmarks.md ("Aegis import"): 350 sessions x 500 message.delta
# events of ~1.1 KB, in the fields real Aegis writes (docs/aegis_format.md);
# the shape of tests/cli/aegis_large_test.cc. Usage: gen_aegis_file.py OUT
import sys
target = 200 << 20
per_session = 500 * (900 + 300)
sessions = target // per_session + 1
filler = list('x' * 900)
for i in range(0, 900, 37): filler[i] = ' '
filler = ''.join(filler)
with open(sys.argv[1], 'w') as f:
    f.write('{"version":1,"sessions":[\n')
    for s in range(sessions):
        f.write('%s{"id":"sess-%06d","tenantId":"t%d","ownerKeyId":"key_%d","conversationId":"c-%06d","transcriptId":"r-%06d","status":"running","createdAt":%d,"updatedAt":%d}\n' % ("" if s == 0 else ",", s, s % 3, s % 7, s, s, 1779504960000 + s, 1779504960001 + s))
    f.write('],"events":[\n')
    first = True
    for s in range(sessions):
        for seq in range(1, 501):
            f.write('%s{"eventId":"t%d:key_%d:sess-%06d:%d","sessionId":"sess-%06d","tenantId":"t%d","ownerKeyId":"key_%d","eventSeq":%d,"eventType":"message.delta","occurredAt":"2026-05-23T02:56:01.000Z","ingestedAt":"2026-05-23T02:56:01.001Z","payload":{"n":%d,"text":"%s","tokens":[1,2,3.5]}}\n' % ("" if first else ",", s % 3, s % 7, s, seq, s, s % 3, s % 7, seq, seq, filler))
            first = False
    f.write('],"actions":[],"pauseInterventions":[]}\n')
