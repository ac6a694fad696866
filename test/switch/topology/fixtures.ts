/** Keys and a small described star shared by the topology tests. */
export const key = (c: string) => `${c.repeat(42)}A=`;
export const KEYS = { proxy: key('P'), h1: key('B'), h2: key('C'), h3: key('D') };

export const STAR = `# a star of three hosts, and one shortcut
host proxy key "${KEYS.proxy}" endpoint 198.18.1.1:51820 proxy
host h1 key "${KEYS.h1}" endpoint 198.18.0.1:51820
host h2 key "${KEYS.h2}" endpoint 198.18.0.2:51820
host h3 key "${KEYS.h3}" endpoint 198.18.0.3:51820
link h1 proxy
link proxy h2
link h3 proxy transport udp
link h2 h1 transport tcp
rule h1 src any dst 02:00:c6:13:02:01 via h2 priority 10
rule h2 src any dst 02:00:c6:13:01:01 via h1 priority 10
rule proxy src 02:00:c6:13:01:01 dst any via h1
rule h3 src any dst none via vm3
`;
