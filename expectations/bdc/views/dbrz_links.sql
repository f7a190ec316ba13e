-- 登簿日志 × 登记记录：one row per row of DJ_DBRZ (same _BATCH, _ROW). REC_N counts the rows of
-- QLT_FW_FDCQ_YZ and QLF_QL_DYAQ of the same batch with the same QXDM, date(DJSJ) and DJLX; records whose
-- DJSJ cannot be read count nowhere (bdc.*.djsj.datetime reports them).
WITH records AS (
    SELECT _BATCH, QXDM, strftime(dq_ts(DJSJ), '%Y-%m-%d') AS day, DJLX, count(*) AS n
    FROM (SELECT _BATCH, QXDM, DJSJ, DJLX FROM QLT_FW_FDCQ_YZ
          UNION ALL SELECT _BATCH, QXDM, DJSJ, DJLX FROM QLF_QL_DYAQ)
    WHERE dq_ts(DJSJ) IS NOT NULL AND QXDM IS NOT NULL AND DJLX IS NOT NULL
    GROUP BY ALL
)
SELECT l._BATCH, l._ROW, l.QXDM, l.RZRQ, l.DJLX, l.SL,
    CASE WHEN regexp_full_match(l.SL, '[0-9]+') THEN CAST(CAST(l.SL AS HUGEINT) AS VARCHAR) END AS SL_N,
    CASE WHEN l.QXDM IS NULL OR dq_date(l.RZRQ) IS NULL OR l.DJLX IS NULL THEN NULL
         ELSE CAST(coalesce(r.n, 0) AS VARCHAR) END AS REC_N
FROM DJ_DBRZ l
LEFT JOIN records r ON r._BATCH = l._BATCH AND r.QXDM = l.QXDM AND r.day = l.RZRQ AND r.DJLX = l.DJLX
