namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// The Lua scripts of <see cref="RedisPeerStore"/>: one script call decides and writes a batch of announces, one after
/// the other (<see cref="RedisAnnounceWriter"/>), so concurrent announces on any number of trackers see each other's
/// changes atomically (Redis runs a script to completion before the next command). The script reads back no peers: the store reads its candidates by rank (ZRANGE) afterwards,
/// bounded by the handout, straight from the group sets (no per-peer lookups).
/// </summary>
/// <remarks>
/// Keys (all under the prefix <c>P</c>), for each swarm (<c>&lt;hex&gt;</c>: its info hash):
/// <c>P c:&lt;hex&gt;</c>, <c>P i:&lt;hex&gt;</c>, <c>P o:&lt;hex&gt;</c> sorted sets of complete agents, incomplete
/// agents and origins (the handout policy's order): member the packed record (<see cref="RedisPeerRecord"/>), score
/// its last announce (Unix ms);
/// <c>P p:&lt;hex&gt;</c> hash peer id → <c>group (1) · quota key length (1) · quota key · member</c>, which finds a
/// peer's member (and who owns its id) from its id;
/// <c>P a:&lt;hex&gt;</c> hash quota key → peers of that address in the swarm.
/// Across swarms: <c>P addresses</c> hash quota key → peers of that address; <c>P swarms</c> sorted set info hash hex →
/// last stored announce (Unix ms, to the second); <c>P counters</c> hash with field <c>peers</c>.
/// A periodic announce of a live peer whose record did not change is one HGET and one ZADD. Expired peers are dropped
/// by the sweep script in bounded batches (and by an announce only when its swarm or its address's share of it is full).
/// The sweep derives swarm keys from the prefix, so the store needs one Redis (or a primary with replicas), not Redis Cluster.
/// </remarks>
internal static class RedisScripts
{
    // What both scripts share: a peer's entry and how to drop it with its counters.
    private const string Common = """
        local function parse(v)
          local ql = string.byte(v, 2)
          return string.sub(v, 1, 1), string.sub(v, 3, 2 + ql), string.sub(v, 3 + ql)
        end

        local function ownerOf(m)
          return string.sub(m, 21, 21 + string.byte(m, 21))
        end

        -- g: the group sets by letter; p a A N: the swarm's peers and address counts, all addresses, the counters.
        local function drop(g, p, a, A, N, pid, v)
          local group, k, m = parse(v)
          redis.call('ZREM', g[group], m)
          redis.call('HDEL', p, pid)
          if redis.call('HINCRBY', a, k, -1) <= 0 then redis.call('HDEL', a, k) end
          if redis.call('HINCRBY', A, k, -1) <= 0 then redis.call('HDEL', A, k) end
          redis.call('HINCRBY', N, 'peers', -1)
        end

        -- A swarm's peers not seen since the cutoff, at most limit of each group.
        local function prune(g, p, a, A, N, cutoff, limit)
          local dropped = 0
          for _, group in ipairs({ 'c', 'i', 'o' }) do
            local members = redis.call('ZRANGEBYSCORE', g[group], '-inf', '(' .. cutoff, 'LIMIT', 0, limit)
            for _, m in ipairs(members) do
              local pid = string.sub(m, 1, 20)
              local v = redis.call('HGET', p, pid)
              if v and select(3, parse(v)) == m then
                drop(g, p, a, A, N, pid, v)
                dropped = dropped + 1
              else
                redis.call('ZREM', g[group], m)
              end
            end
          end
          return dropped
        end

        """;

    // KEYS: addresses swarms counters
    // ARGV: prefix now cutoff maxSwarms maxPeersPerSwarm maxPeers maxPeersPerAddress maxPeersPerAddressPerSwarm, then one
    //       packed announce per argument, applied in order: mode (a|s) · exempt (1|0) · counts (1|0) · group (c|i|o) ·
    //       quota key length (1) · info hash hex (40) · quota key · member (the peer id is its first 20 bytes, the owner
    //       the address with its length from byte 21: RedisPeerRecord)
    // Reply: { peers, swarms, then four integers per announce: outcome, and the live members of each group (complete,
    // incomplete, origins; last seen at or after the cutoff, expired ones stay until swept) when the announce gets peers
    // and asked for counts, else -1 }. Outcomes: 1 stored, 2 removed, 3 owned, 4 swarm_full, 5 too_many_swarms,
    // 6 swarm_address_quota, 7 address_quota, 8 too_many_peers.
    public const string Announce = Common + """
        local A, S, N = KEYS[1], KEYS[2], KEYS[3]
        local prefix, now, cutoff = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local maxSwarms, maxPerSwarm, maxPeers = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
        local maxPerAddr, maxPerAddrSwarm = tonumber(ARGV[7]), tonumber(ARGV[8])

        local function count(h, f) return tonumber(redis.call('HGET', h, f) or '0') end

        local function one(arg)
          local mode, exempt, counts, group = string.sub(arg, 1, 1), string.sub(arg, 2, 2) == '1', string.sub(arg, 3, 3) == '1', string.sub(arg, 4, 4)
          local ql = string.byte(arg, 5)
          local ih = string.sub(arg, 6, 45)
          local key = string.sub(arg, 46, 45 + ql)
          local member = string.sub(arg, 46 + ql)
          local id, owner = string.sub(member, 1, 20), ownerOf(member)
          local g = { c = prefix .. 'c:' .. ih, i = prefix .. 'i:' .. ih, o = prefix .. 'o:' .. ih }
          local p, a = prefix .. 'p:' .. ih, prefix .. 'a:' .. ih

          -- kept: nothing was removed, so the swarm cannot have become empty.
          local function finish(outcome, withPeers, kept)
            if not kept and redis.call('EXISTS', p) == 0 then
              redis.call('DEL', a)
              redis.call('ZREM', S, ih)
            end
            if withPeers and counts then
              return outcome, redis.call('ZCOUNT', g.c, cutoff, '+inf'), redis.call('ZCOUNT', g.i, cutoff, '+inf'), redis.call('ZCOUNT', g.o, cutoff, '+inf')
            end
            return outcome, -1, -1, -1
          end

          -- The swarm's last announce, kept to the second: the sweep only compares it with a TTL.
          local function touch()
            local last = tonumber(redis.call('ZSCORE', S, ih) or '0')
            if now - last >= 1000 then redis.call('ZADD', S, now, ih) end
          end

          local entry = group .. string.char(#key) .. key .. member

          local v = redis.call('HGET', p, id)
          local live = false
          if v then
            local oldGroup, oldKey, oldMember = parse(v)
            live = tonumber(redis.call('ZSCORE', g[oldGroup], oldMember) or '0') >= cutoff
            -- The id belongs to the address that registered it while it is live: anyone else repeating it could move
            -- the peer to their own endpoint or (with a stop) remove it.
            if live and ownerOf(oldMember) ~= owner then return finish(3, false) end
            if mode == 's' then
              drop(g, p, a, A, N, id, v)
              return finish(2, false)
            end
            if live and oldKey == key then
              -- Live, ours and counted under this quota key: refresh in place.
              if oldMember ~= member then
                redis.call('ZREM', g[oldGroup], oldMember)
                redis.call('HSET', p, id, entry)
              end
              redis.call('ZADD', g[group], now, member)
              touch()
              return finish(1, true, true)
            end
            -- Expired (the sweep had not reached it yet) or counted under another key: release its counters and
            -- admit it afresh, so the quotas count it under the address it announces from now.
            drop(g, p, a, A, N, id, v)
          elseif mode == 's' then
            return finish(2, false)
          end

          if not redis.call('ZSCORE', S, ih) and redis.call('ZCARD', S) >= maxSwarms then
            return finish(5, false)
          end

          local size, mine = redis.call('HLEN', p), count(a, key)
          if size >= maxPerSwarm or (not exempt and mine >= maxPerAddrSwarm) then
            -- Full of peers that stopped announcing? Drop this swarm's expired peers before deciding.
            prune(g, p, a, A, N, cutoff, maxPerSwarm)
            size, mine = redis.call('HLEN', p), count(a, key)
          end
          if size >= maxPerSwarm then return finish(4, true) end
          if not exempt and mine >= maxPerAddrSwarm then return finish(6, false) end
          if not exempt and count(A, key) >= maxPerAddr then return finish(7, false) end
          if count(N, 'peers') >= maxPeers then return finish(8, false) end

          redis.call('HSET', p, id, entry)
          redis.call('ZADD', g[group], now, member)
          redis.call('HINCRBY', a, key, 1)
          redis.call('HINCRBY', A, key, 1)
          redis.call('HINCRBY', N, 'peers', 1)
          redis.call('ZADD', S, now, ih)
          return finish(1, true, true)
        end

        local reply = { 0, 0 }
        for n = 9, #ARGV do
          local outcome, c, i, o = one(ARGV[n])
          reply[#reply + 1] = outcome
          reply[#reply + 1] = c
          reply[#reply + 1] = i
          reply[#reply + 1] = o
        end
        reply[1] = count(N, 'peers')
        reply[2] = redis.call('ZCARD', S)
        return reply
        """;

    // KEYS: swarms addresses counters; ARGV: prefix cutoff limit cursor ("-": no scan) peerBatch.
    // First the idle swarms (newest announce older than the cutoff: only expired peers; all of it goes), at most limit;
    // then the next swarms of a ZSCAN from cursor, about limit of them, each losing at most peerBatch expired peers
    // per group. Reply: { peers dropped, idle swarms dropped, next cursor ("0": the scan is done), peers, swarms }
    public const string Sweep = Common + """
        local S, A, N = KEYS[1], KEYS[2], KEYS[3]
        local prefix, cutoff, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local cursor, batch = ARGV[4], tonumber(ARGV[5])

        local function keysOf(ih)
          return { c = prefix .. 'c:' .. ih, i = prefix .. 'i:' .. ih, o = prefix .. 'o:' .. ih },
            prefix .. 'p:' .. ih, prefix .. 'a:' .. ih
        end

        local dropped = 0
        -- A swarm's score lags its newest announce by up to a second (the announce script writes it to the second).
        local idle = redis.call('ZRANGEBYSCORE', S, '-inf', '(' .. (cutoff - 1000), 'LIMIT', 0, limit)
        for _, ih in ipairs(idle) do
          local g, p, a = keysOf(ih)
          local values = redis.call('HVALS', p)
          for _, v in ipairs(values) do
            local _, k = parse(v)
            if redis.call('HINCRBY', A, k, -1) <= 0 then redis.call('HDEL', A, k) end
          end
          redis.call('HINCRBY', N, 'peers', -#values)
          dropped = dropped + #values
          redis.call('DEL', g.c, g.i, g.o, p, a)
          redis.call('ZREM', S, ih)
        end

        if cursor == '-' then
          return { dropped, #idle, '-', tonumber(redis.call('HGET', N, 'peers') or '0'), redis.call('ZCARD', S) }
        end
        local scan = redis.call('ZSCAN', S, cursor, 'COUNT', limit)
        local members = scan[2]
        for n = 1, #members, 2 do
          local ih = members[n]
          local g, p, a = keysOf(ih)
          dropped = dropped + prune(g, p, a, A, N, cutoff, batch)
          if redis.call('EXISTS', p) == 0 then
            redis.call('DEL', a)
            redis.call('ZREM', S, ih)
          end
        end

        return { dropped, #idle, scan[1], tonumber(redis.call('HGET', N, 'peers') or '0'), redis.call('ZCARD', S) }
        """;
}
