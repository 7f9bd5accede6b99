import { benchIdle } from "../bench/idle";
benchIdle({ settleMs: 3000, measureMs: 15000, readyTimeoutMs: 180000 }, console.log).then((r) => console.log(JSON.stringify(r, null, 1)));
