-- 建金3-1 报表 × 业务数据：one row per row of TJBB (same _BATCH, _ROW). COMPUTED is the line's figure computed
-- from the batch's business rows (see tjbb_basis.sql; NULL for lines that are not computed), IDENTITY the
-- figure the report's own identities give from its other filed lines of the same city and month (NULL when a
-- term is missing, repeated or not a number). Counts are whole numbers, amounts 万元 with 2 decimals.
WITH batch_asof AS (
    SELECT _BATCH, strftime(AS_OF, '%Y-%m') AS bm FROM dq_as_of
), grmx AS (
    SELECT m._BATCH, m._ROW, m.CSDM, m.YWLSH, m.GRZH, m.DWZH, m.GJHTQYWLX,
        CASE WHEN regexp_full_match(m.FSE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(m.FSE AS DECIMAL(21,6)) END AS x_fse
    FROM GRMX m WHERE m.CSDM IS NOT NULL
), grxx AS (
    SELECT g._BATCH, g._ROW, g.CSDM, g.GRZH, g.GRZHZT,
        strftime(dq_date(CASE WHEN regexp_full_match(g.KHRQ, '[0-9]{8}') THEN substr(g.KHRQ, 1, 4) || '-' || substr(g.KHRQ, 5, 2) || '-' || substr(g.KHRQ, 7, 2) ELSE g.KHRQ END), '%Y-%m') AS khny,
        strftime(dq_date(CASE WHEN regexp_full_match(g.XHRQ, '[0-9]{8}') THEN substr(g.XHRQ, 1, 4) || '-' || substr(g.XHRQ, 5, 2) || '-' || substr(g.XHRQ, 7, 2) ELSE g.XHRQ END), '%Y-%m') AS xhny
    FROM GRXX g WHERE g.CSDM IS NOT NULL
), dkzh AS (
    SELECT k._BATCH, k._ROW, k.CSDM, k.DKZH,
        CASE WHEN regexp_full_match(k.DKFFE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKFFE AS DECIMAL(21,6)) END AS x_dkffe,
        CASE WHEN regexp_full_match(k.DKYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKYE AS DECIMAL(21,6)) END AS x_dkye,
        CASE WHEN regexp_full_match(k.YQBJZE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.YQBJZE AS DECIMAL(21,6)) END AS x_yqbjze,
        strftime(dq_date(CASE WHEN regexp_full_match(k.DKFFRQ, '[0-9]{8}') THEN substr(k.DKFFRQ, 1, 4) || '-' || substr(k.DKFFRQ, 5, 2) || '-' || substr(k.DKFFRQ, 7, 2) ELSE k.DKFFRQ END), '%Y-%m') AS ffny
    FROM DKZH k WHERE k.CSDM IS NOT NULL
), basis AS (
    SELECT _BATCH, _ROW, CSDM, '101' AS HC, 'GRMX' AS SRC_TABLE, YWLSH AS SRC_KEY, DWZH AS DISTINCT_KEY, NULL AS amount
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND DWZH IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '102', 'GRMX', YWLSH, GRZH, NULL
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND GRZH IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '108', 'GRMX', YWLSH, NULL, x_fse
        FROM grmx WHERE GJHTQYWLX IN ('01', '02') AND x_fse IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '109', 'GRMX', YWLSH, NULL, -x_fse
        FROM grmx WHERE GJHTQYWLX IN ('11', '12') AND x_fse IS NOT NULL
    UNION ALL SELECT g._BATCH, g._ROW, g.CSDM, '112', 'GRXX', g.GRZH, NULL, NULL
        FROM grxx g JOIN batch_asof a ON a._BATCH = g._BATCH WHERE g.khny = a.bm
    UNION ALL SELECT g._BATCH, g._ROW, g.CSDM, '113', 'GRXX', g.GRZH, NULL, NULL
        FROM grxx g JOIN batch_asof a ON a._BATCH = g._BATCH WHERE g.xhny = a.bm
    UNION ALL SELECT _BATCH, _ROW, CSDM, '119', 'GRXX', GRZH, NULL, NULL FROM grxx WHERE GRZHZT IN ('01', '02')
    UNION ALL SELECT _BATCH, _ROW, CSDM, '120', 'GRXX', GRZH, NULL, NULL FROM grxx WHERE GRZHZT = '02'
    UNION ALL SELECT k._BATCH, k._ROW, k.CSDM, '204', 'DKZH', k.DKZH, NULL, k.x_dkffe
        FROM dkzh k JOIN batch_asof a ON a._BATCH = k._BATCH WHERE k.ffny = a.bm AND k.x_dkffe IS NOT NULL
    UNION ALL SELECT _BATCH, _ROW, CSDM, '207', 'DKZH', DKZH, NULL, x_dkye FROM dkzh WHERE x_dkye IS NOT NULL AND x_dkye <> 0
    UNION ALL SELECT _BATCH, _ROW, CSDM, '211', 'DKZH', DKZH, NULL, NULL FROM dkzh WHERE x_dkye > 0
    UNION ALL SELECT _BATCH, _ROW, CSDM, '212', 'DKZH', DKZH, NULL, NULL FROM dkzh WHERE x_yqbjze > 0
), computed AS (
    SELECT _BATCH, CSDM, HC,
        CASE WHEN HC IN ('101', '102') THEN CAST(count(DISTINCT DISTINCT_KEY) AS VARCHAR)
             WHEN HC IN ('108', '109', '204', '207') THEN CAST(round(sum(amount) * CAST('0.0001' AS DECIMAL(5,4)), 2) AS VARCHAR)
             ELSE CAST(count(*) AS VARCHAR) END AS computed
    FROM basis GROUP BY _BATCH, CSDM, HC
), lines AS (
    SELECT t._BATCH, t._ROW, t.CSDM, t.TJNY, t.HC, t.BQZ,
        CASE WHEN regexp_full_match(t.TJNY, '[0-9]{4}-?[0-9]{2}') AND substr(t.TJNY, 1, 4) <> '0000'
                  AND right(t.TJNY, 2) BETWEEN '01' AND '12'
             THEN substr(t.TJNY, 1, 4) || '-' || right(t.TJNY, 2) END AS ny,
        CASE WHEN regexp_full_match(t.BQZ, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(t.BQZ AS DECIMAL(21,6)) END AS v
    FROM TJBB t
), filed AS (
    SELECT _BATCH, CSDM, ny,
        CASE WHEN count(*) FILTER (WHERE HC = '103') = 1 THEN max(CASE WHEN HC = '103' THEN v END) END AS v103,
        CASE WHEN count(*) FILTER (WHERE HC = '104') = 1 THEN max(CASE WHEN HC = '104' THEN v END) END AS v104,
        CASE WHEN count(*) FILTER (WHERE HC = '105') = 1 THEN max(CASE WHEN HC = '105' THEN v END) END AS v105,
        CASE WHEN count(*) FILTER (WHERE HC = '106') = 1 THEN max(CASE WHEN HC = '106' THEN v END) END AS v106,
        CASE WHEN count(*) FILTER (WHERE HC = '107') = 1 THEN max(CASE WHEN HC = '107' THEN v END) END AS v107,
        CASE WHEN count(*) FILTER (WHERE HC = '108') = 1 THEN max(CASE WHEN HC = '108' THEN v END) END AS v108,
        CASE WHEN count(*) FILTER (WHERE HC = '109') = 1 THEN max(CASE WHEN HC = '109' THEN v END) END AS v109,
        CASE WHEN count(*) FILTER (WHERE HC = '110') = 1 THEN max(CASE WHEN HC = '110' THEN v END) END AS v110,
        CASE WHEN count(*) FILTER (WHERE HC = '111') = 1 THEN max(CASE WHEN HC = '111' THEN v END) END AS v111,
        CASE WHEN count(*) FILTER (WHERE HC = '112') = 1 THEN max(CASE WHEN HC = '112' THEN v END) END AS v112,
        CASE WHEN count(*) FILTER (WHERE HC = '113') = 1 THEN max(CASE WHEN HC = '113' THEN v END) END AS v113,
        CASE WHEN count(*) FILTER (WHERE HC = '201') = 1 THEN max(CASE WHEN HC = '201' THEN v END) END AS v201,
        CASE WHEN count(*) FILTER (WHERE HC = '202') = 1 THEN max(CASE WHEN HC = '202' THEN v END) END AS v202,
        CASE WHEN count(*) FILTER (WHERE HC = '203') = 1 THEN max(CASE WHEN HC = '203' THEN v END) END AS v203,
        CASE WHEN count(*) FILTER (WHERE HC = '204') = 1 THEN max(CASE WHEN HC = '204' THEN v END) END AS v204,
        CASE WHEN count(*) FILTER (WHERE HC = '205') = 1 THEN max(CASE WHEN HC = '205' THEN v END) END AS v205,
        CASE WHEN count(*) FILTER (WHERE HC = '209') = 1 THEN max(CASE WHEN HC = '209' THEN v END) END AS v209
    FROM lines WHERE CSDM IS NOT NULL AND ny IS NOT NULL GROUP BY _BATCH, CSDM, ny
), repeated AS (
    SELECT _BATCH, CSDM, ny, HC, count(*) AS n FROM lines
    WHERE CSDM IS NOT NULL AND ny IS NOT NULL AND HC IS NOT NULL GROUP BY ALL
)
SELECT l._BATCH, l._ROW, l.CSDM, l.TJNY, l.HC, l.BQZ,
    -- 本期数由业务数据计算（行次 101 102 108 109 112 113 119 120 204 207 211 212；该城市本月没有业务记录时为 0）
    CASE WHEN l.CSDM IS NULL OR a.bm IS NULL
              OR l.HC NOT IN ('101', '102', '108', '109', '112', '113', '119', '120', '204', '207', '211', '212') THEN NULL
         ELSE coalesce(c.computed, CASE WHEN l.HC IN ('108', '109', '204', '207') THEN '0.00' ELSE '0' END) END AS COMPUTED,
    -- 表内勾稽关系
    CAST(CASE l.HC
        WHEN '114' THEN f.v103 + f.v108
        WHEN '115' THEN f.v104 + f.v109
        WHEN '116' THEN f.v105 + f.v108 - f.v109
        WHEN '118' THEN f.v106 + f.v110 - f.v111
        WHEN '119' THEN f.v107 + f.v112 - f.v113
        WHEN '206' THEN f.v201 + f.v204
        WHEN '207' THEN f.v202 + f.v204 - f.v205
        WHEN '210' THEN f.v203 + f.v209
        END AS VARCHAR) AS IDENTITY,
    CASE WHEN l.ny IS NULL OR a.bm IS NULL THEN NULL WHEN l.ny = a.bm THEN '1' ELSE '0' END AS TJNY_IN_MONTH,
    CASE WHEN r.n IS NULL THEN NULL WHEN r.n > 1 THEN '1' ELSE '0' END AS LINE_REPEATED
FROM lines l
LEFT JOIN batch_asof a ON a._BATCH = l._BATCH
LEFT JOIN computed c ON c._BATCH = l._BATCH AND c.CSDM = l.CSDM AND c.HC = l.HC
LEFT JOIN filed f ON f._BATCH = l._BATCH AND f.CSDM = l.CSDM AND f.ny = l.ny
LEFT JOIN repeated r ON r._BATCH = l._BATCH AND r.CSDM = l.CSDM AND r.ny = l.ny AND r.HC = l.HC
