const t0 = performance.now();
const m = await import(process.argv[2]);
const t1 = performance.now();
console.log(process.argv[2], (t1-t0).toFixed(1));
