namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// The Lua scripts of <see cref="RedisPeerStore"/>: one script call per announce, so concurrent announces on any
/// number of trackers see each other's changes atomically (Redis runs a script to completion before the next command).
/// </summary>
/// <remarks>
/// Keys (all under the prefix <c>P</c>):
/// <c>P t:&lt;info hash hex&gt;</c> sorted set peer id → last seen (Unix ms);
/// <c>P p:&lt;hex&gt;</c> hash peer id → record (<c>&lt;owner address&gt; &lt;quota key&gt; …</c>, see <see cref="RedisPeerRecord"/>);
/// <c>P a:&lt;hex&gt;</c> hash quota key → peers of that address in the swarm;
/// <c>P addresses</c> hash quota key → peers of that address across swarms;
/// <c>P swarms</c> sorted set info hash hex → last stored announce (Unix ms);
/// <c>P counters</c> hash with field <c>peers</c>.
/// The sweep script derives swarm keys from the prefix, so the store needs one Redis (or a primary with replicas),
/// not Redis Cluster.
/// </remarks>
internal static class RedisScripts
{
    // KEYS: t p a addresses swarms counters
    // ARGV: infoHashHex peerId owner quotaKey record now cutoff mode(a|s) exempt(1|0)
    //       maxSwarms maxPeersPerSwarm maxPeers maxPeersPerAddress maxPeersPerAddressPerSwarm sample pruneBatch
    // Reply: { outcome, peers, swarms, [peerId, lastSeen, record]… }
    public const string Announce = """
        local t, p, a, A, S, N = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
        local ih, id, owner, key, value = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local now, cutoff = tonumber(ARGV[6]), tonumber(ARGV[7])
        local mode, exempt = ARGV[8], ARGV[9] == '1'
        local maxSwarms, maxPerSwarm, maxPeers = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
        local maxPerAddr, maxPerAddrSwarm = tonumber(ARGV[13]), tonumber(ARGV[14])
        local sample, batch = tonumber(ARGV[15]), tonumber(ARGV[16])

        local function count(h, f) return tonumber(redis.call('HGET', h, f) or '0') end

        local function drop(pid)
          local v = redis.call('HGET', p, pid)
          redis.call('ZREM', t, pid)
          if not v then return end
          redis.call('HDEL', p, pid)
          local k = string.match(v, '^%S+ (%S+)')
          if redis.call('HINCRBY', a, k, -1) <= 0 then redis.call('HDEL', a, k) end
          if redis.call('HINCRBY', A, k, -1) <= 0 then redis.call('HDEL', A, k) end
          redis.call('HINCRBY', N, 'peers', -1)
        end

        -- Bounded: an announce drops at most this many of its swarm's expired peers.
        local function prune(limit)
          local ids = redis.call('ZRANGEBYSCORE', t, '-inf', '(' .. cutoff, 'LIMIT', 0, limit)
          for _, pid in ipairs(ids) do drop(pid) end
        end

        local function finish(outcome, withPeers)
          if redis.call('EXISTS', t) == 0 then
            redis.call('DEL', p, a)
            redis.call('ZREM', S, ih)
          end
          local reply = { outcome, count(N, 'peers'), redis.call('ZCARD', S) }
          if withPeers then
            -- Never the whole swarm: all live peers when there are few, else a random sample of them.
            local flat
            if redis.call('ZCOUNT', t, cutoff, '+inf') <= sample then
              flat = redis.call('ZRANGEBYSCORE', t, cutoff, '+inf', 'WITHSCORES')
            else
              flat = redis.call('ZRANDMEMBER', t, sample * 2, 'WITHSCORES')
            end
            local n = 0
            for i = 1, #flat, 2 do
              if n >= sample then break end
              if tonumber(flat[i + 1]) >= cutoff then
                local v = redis.call('HGET', p, flat[i])
                if v then
                  reply[#reply + 1] = flat[i]
                  reply[#reply + 1] = flat[i + 1]
                  reply[#reply + 1] = v
                  n = n + 1
                end
              end
            end
          end
          return reply
        end

        local function ownedElsewhere(v)
          return tonumber(redis.call('ZSCORE', t, id) or '0') >= cutoff and string.match(v, '^(%S+)') ~= owner
        end

        if mode == 's' then
          local v = redis.call('HGET', p, id)
          if v then
            if ownedElsewhere(v) then return finish('owned', false) end
            drop(id)
          end
          return finish('removed', false)
        end

        prune(batch)
        local v = redis.call('HGET', p, id)
        if v then
          if ownedElsewhere(v) then return finish('owned', false) end
          if tonumber(redis.call('ZSCORE', t, id) or '0') >= cutoff and string.match(v, '^%S+ (%S+)') == key then
            -- Live, ours and counted under this quota key: refresh in place.
            redis.call('HSET', p, id, value)
            redis.call('ZADD', t, now, id)
            redis.call('ZADD', S, now, ih)
            return finish('stored', true)
          end
          -- Expired (the prune is bounded, so it may still be here) or counted under another key: release its
          -- counters and admit it afresh, so the quotas count it under the address it announces from now.
          drop(id)
        end

        if not redis.call('ZSCORE', S, ih) and redis.call('ZCARD', S) >= maxSwarms then
          return finish('too_many_swarms', false)
        end

        local size, mine = redis.call('ZCARD', t), count(a, key)
        if size >= maxPerSwarm or (not exempt and mine >= maxPerAddrSwarm) then
          -- Full of peers that stopped announcing? Drop this swarm's expired peers before deciding.
          prune(maxPerSwarm)
          size, mine = redis.call('ZCARD', t), count(a, key)
        end
        if size >= maxPerSwarm then return finish('swarm_full', true) end
        if not exempt and mine >= maxPerAddrSwarm then return finish('swarm_address_quota', false) end
        if not exempt and count(A, key) >= maxPerAddr then return finish('address_quota', false) end
        if count(N, 'peers') >= maxPeers then return finish('too_many_peers', false) end

        redis.call('HSET', p, id, value)
        redis.call('ZADD', t, now, id)
        redis.call('HINCRBY', a, key, 1)
        redis.call('HINCRBY', A, key, 1)
        redis.call('HINCRBY', N, 'peers', 1)
        redis.call('ZADD', S, now, ih)
        return finish('stored', true)
        """;

    // KEYS: swarms addresses counters; ARGV: prefix cutoff limit.
    // A swarm whose newest announce is older than the cutoff has only expired peers: all of it goes.
    // Reply: { peers dropped, swarms dropped, peers, swarms }
    public const string Sweep = """
        local S, A, N = KEYS[1], KEYS[2], KEYS[3]
        local prefix, cutoff, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local swarms = redis.call('ZRANGEBYSCORE', S, '-inf', '(' .. cutoff, 'LIMIT', 0, limit)
        local dropped = 0
        for _, ih in ipairs(swarms) do
          local p = prefix .. 'p:' .. ih
          local values = redis.call('HVALS', p)
          for _, v in ipairs(values) do
            local k = string.match(v, '^%S+ (%S+)')
            if redis.call('HINCRBY', A, k, -1) <= 0 then redis.call('HDEL', A, k) end
          end
          redis.call('HINCRBY', N, 'peers', -#values)
          dropped = dropped + #values
          redis.call('DEL', prefix .. 't:' .. ih, p, prefix .. 'a:' .. ih)
          redis.call('ZREM', S, ih)
        end
        return { dropped, #swarms, tonumber(redis.call('HGET', N, 'peers') or '0'), redis.call('ZCARD', S) }
        """;
}
