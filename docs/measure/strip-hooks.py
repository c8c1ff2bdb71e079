# Writes copies of raft/*.go with every observe(...) call and hooks.init
# removed, and an overlay JSON for `go test -overlay`: the core as it would
# be without invariant hooks, for the "untagged hooks cost nothing" bench.
import glob, json, os, re, sys
root = sys.argv[1]
out = sys.argv[2]
repl = {}
for p in glob.glob(os.path.join(root, 'raft', '*.go')):
    if p.endswith('_test.go') or 'hooks_' in p:
        continue
    s = open(p).read()
    res, i, n = [], 0, 0
    while True:
        j = s.find('r.observe(', i)
        if j < 0:
            res.append(s[i:]); break
        res.append(s[i:j])
        k, depth = j + len('r.observe('), 1
        while depth:
            c = s[k]
            if c == '(': depth += 1
            elif c == ')': depth -= 1
            elif c == '"':
                k += 1
                while s[k] != '"':
                    if s[k] == '\\': k += 1
                    k += 1
            k += 1
        i = k; n += 1
    s2 = ''.join(res).replace('r.hooks.init(r)', '').replace('from := r.lastApplied + 1', '')
    if n or s2 != s:
        dst = os.path.join(out, os.path.basename(p))
        open(dst, 'w').write(s2)
        repl[os.path.abspath(p)] = dst
        print(p, n, 'calls removed', file=sys.stderr)
json.dump({'Replace': repl}, open(os.path.join(out, 'overlay.json'), 'w'))
