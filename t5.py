import sys; sys.path.insert(0,'/tmp/attack-merged')
from diff import run, Conn
c = [Conn(7801), Conn(7802)]
run([["acl","setuser","lim","on",">pw","~*","+get","+ping","+auth","+eval","+multi","+exec"],
     ["acl","setuser","lim2","on",">pw","~a*","+@all","-setbit"]], conns=c)
# unrestricted client warms cache with set/setbit/get
warm = [["set","k","1"],["setbit","k","0","1"],["get","k"],["SET","k","1"],["SETBIT","k","1","1"],["append","k","x"],["pfadd","h","a"],["set","a1","v"]]
tot = run(warm, conns=c)
lim = [Conn(7801), Conn(7802)]
tot += run([["auth","lim","pw"]], conns=lim)
for cmds in [warm, warm[::-1], [["get","k"],["set","k","2"],["get","k"],["setbit","k","0","0"],["get","k"]],
             [["eval","return redis.call('set','k','9')","0"],["eval","return redis.call('get','k')","0"]],
             [["multi"],["set","k","3"],["get","k"],["exec"]],
             [["get"],["get","k","k"],["set","k"]]]:
    tot += run(warm, conns=c)
    tot += run(cmds, conns=lim)
l2 = [Conn(7801), Conn(7802)]
tot += run([["auth","lim2","pw"]], conns=l2)
for i in range(3):
    tot += run(warm, conns=c)
    tot += run([["setbit","a1","0","1"],["set","a1","x"],["set","k","x"],["get","k"],["setbit","a2","0","1"],["get","a1"]], conns=l2)
# unauthenticated with requirepass? Use default user off via acl instead: set requirepass via config
tot += run([["config","set","requirepass","secret"]], conns=c)
na = [Conn(7801), Conn(7802)]
tot += run([["get","k"],["set","k","1"],["setbit","k","0","1"],["ping"],["auth","wrong"],["get","k"]], conns=na)
tot += run(warm, conns=c)
tot += run([["get","k"],["set","k","1"],["setbit","k","0","1"],["ping"],["get","k"],["GET","k"],["gEt","k"]], conns=na)
tot += run([["config","set","requirepass",""]], conns=c)
# wrong arity on cached
tot += run(warm + [["get"],["get","k","x"],["setbit","k"],["setbit","k","1"],["SETBIT","k","1","1","1"],["append","k"],["pfadd"],["set","k","v","ex"],["get","k"]], conns=c)
print("total diffs", tot)
